from django import forms
from django.utils.translation import gettext_lazy

from billing.forms import clean_som

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
    """The check page's hidden copy of the form and its one-time token."""

    token = forms.CharField(max_length=200, widget=forms.HiddenInput, error_messages=_TAMPERED)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("number", "amount"):
            self.fields[name].widget = forms.HiddenInput()
