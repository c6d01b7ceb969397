from django import forms
from django.utils.translation import gettext_lazy as _

from billing.forms import clean_som


class ScanForm(forms.Form):
    """«Считывание по QR-коду»: the link pasted, or a photo of the code."""

    link = forms.CharField(
        label=_("Link of the QR code"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Paste the link the QR code holds, or upload a photo of it below."),
    )
    photo = forms.FileField(
        label=_("Photo or screenshot of the QR code"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )


class AmountForm(forms.Form):
    """The amount the payer enters for a static code (or the fixed one, carried hidden)."""

    link = forms.CharField(max_length=5000, widget=forms.HiddenInput)
    amount = forms.CharField(
        label=_("Amount, som"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def clean_amount(self):
        raw = self.cleaned_data["amount"]
        return clean_som(raw) if raw.strip() else None


class ConfirmForm(AmountForm):
    token = forms.CharField(max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].widget = forms.HiddenInput()


class DynamicForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount, som"),
        max_length=30,
        error_messages={"required": _("Enter the amount.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def clean_amount(self):
        return clean_som(self.cleaned_data["amount"])
