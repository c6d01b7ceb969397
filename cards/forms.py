from django import forms
from django.utils.translation import gettext_lazy as _

from billing.forms import clean_som


class BlankInput(forms.TextInput):
    """A text input that never renders a value back: the card number is typed, not shown."""

    def format_value(self, value):
        return None


class CardForm(forms.Form):
    """«Добавить карту»: the checks are cards.services.card_details_clean's."""

    name = forms.CharField(label=_("Card name"), max_length=40, required=False)
    number = forms.CharField(
        label=_("Card number"),
        max_length=40,
        required=False,
        widget=BlankInput(
            attrs={"inputmode": "numeric", "autocomplete": "cc-number", "spellcheck": "false"}
        ),
    )
    expiry = forms.CharField(
        label=_("Valid until (MM/YY)"),
        max_length=7,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-exp"}),
    )
    cvv = forms.CharField(
        label=_("CVV"),
        max_length=10,
        required=False,
        widget=forms.PasswordInput(
            render_value=False, attrs={"inputmode": "numeric", "autocomplete": "cc-csc"}
        ),
    )


class HeldAmountForm(forms.Form):
    amount = forms.CharField(
        label=_("Held amount, som"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class TopUpForm(forms.Form):
    card = forms.TypedChoiceField(label=_("Card"), coerce=int)
    amount = forms.CharField(
        label=_("Amount, som"),
        max_length=30,
        error_messages={"required": _("Enter the amount.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def __init__(self, *args, cards, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["card"].choices = [(c.pk, f"{c} — {c.name}") for c in cards]
        self.fields["card"].error_messages["invalid_choice"] = _("Choose one of your cards.")
        self.fields["card"].error_messages["required"] = _("Choose one of your cards.")

    def clean_amount(self):
        return clean_som(self.cleaned_data["amount"])
