from django import forms
from django.utils.translation import gettext_lazy

from billing.forms import clean_som
from wallets import operations

_CHANGED = gettext_lazy("The transfer form was changed. Check the transfer again.")
_TAMPERED = {"required": _CHANGED, "invalid": _CHANGED, "max_length": _CHANGED}


class TransferForm(forms.Form):
    """«По номеру телефона»: the recipient's number (any usual form) and the amount →
    «Далее»."""

    number = forms.CharField(
        label=gettext_lazy("Recipient's number"),
        max_length=32,
        help_text=gettext_lazy("For example 0555 123 456."),
        error_messages={"required": gettext_lazy("Enter the recipient's number.")},
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "type": "tel"}),
    )
    amount = forms.CharField(
        label=gettext_lazy("Amount, som"),
        max_length=30,
        error_messages={"required": gettext_lazy("Enter the amount.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def clean_amount(self):
        return clean_som(self.cleaned_data["amount"])


class ConfirmForm(TransferForm):
    """The check page's hidden copy of the form and its one-time token (and, for a transfer
    by QR code, the code's link: «Назад» returns to its amount, its fixed amount holds)."""

    token = forms.CharField(max_length=200, widget=forms.HiddenInput, error_messages=_TAMPERED)
    link = forms.CharField(
        max_length=5000, required=False, widget=forms.HiddenInput, error_messages=_TAMPERED
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("number", "amount"):
            self.fields[name].widget = forms.HiddenInput()


class RequestForm(forms.Form):
    """«Мой QR»: an optional amount to request («request 500 som»): a code with that amount
    fixed, and its share link."""

    amount = forms.CharField(
        label=gettext_lazy("Amount, som"),
        required=False,
        max_length=30,
        help_text=gettext_lazy("Leave it empty for a code in which the payer enters the amount."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def clean_amount(self):
        raw = self.cleaned_data["amount"]
        if not raw.strip():
            return None
        amount = clean_som(raw)
        problems = operations.amount_problems(amount)
        if problems:
            raise problems[0]
        return amount
