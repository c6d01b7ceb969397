import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from wallets.digits import ascii_digits
from wallets.money import MAX_AMOUNT, format_som, parse_som


def clean_som(raw) -> int:
    """parse_som, with a clear message for a number that is only too long."""
    try:
        return parse_som(raw)
    except ValidationError as exc:
        text = ascii_digits(raw or "").replace(" ", "").replace("\u00a0", "")
        if exc.code == "invalid" and re.fullmatch(r"[0-9]{13,}([.,][0-9]{1,2})?", text):
            raise ValidationError(
                _("The amount is too large: at most %(max)s.") % {"max": format_som(MAX_AMOUNT)},
                code="too_large",
            ) from None
        raise


class PaymentForm(forms.Form):
    """The provider page: account and amount (som, up to 2 decimals) → «Далее»."""

    account = forms.CharField(
        max_length=64, error_messages={"required": gettext_lazy("Enter the account.")}
    )
    amount = forms.CharField(
        label=gettext_lazy("Amount, som"),
        max_length=30,
        error_messages={"required": gettext_lazy("Enter the amount.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def __init__(self, *args, provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = provider
        field = self.fields["account"]
        field.label = provider.account_label
        field.help_text = provider.account_hint
        field.widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        self.fields["amount"].help_text = _("From %(min)s to %(max)s.") % {
            "min": format_som(provider.min_amount),
            "max": format_som(provider.max_amount),
        }

    def clean_amount(self):
        return clean_som(self.cleaned_data["amount"])


_CHANGED = gettext_lazy("The payment form was changed. Check the payment again.")
_TAMPERED = {"required": _CHANGED, "invalid": _CHANGED, "max_length": _CHANGED}


class ConfirmForm(PaymentForm):
    """The confirm page's hidden copy of the form, the provider id and the one-time token."""

    provider_id = forms.IntegerField(widget=forms.HiddenInput, error_messages=_TAMPERED)
    token = forms.CharField(max_length=200, widget=forms.HiddenInput, error_messages=_TAMPERED)
    # The holder's name from the provider's check, signed (billing.services.holder_seal).
    holder = forms.CharField(
        required=False, max_length=1000, widget=forms.HiddenInput, error_messages=_TAMPERED
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("account", "amount"):
            self.fields[name].widget = forms.HiddenInput()

    def clean_provider_id(self):
        value = self.cleaned_data["provider_id"]
        if value != self.provider.pk:
            raise ValidationError(_CHANGED, code="tampered")
        return value


class FavouriteNameForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Template name"), max_length=60)
