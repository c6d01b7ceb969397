from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from billing.forms import clean_som

from . import images, texts


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

    def read_link(self) -> str | None:
        """The text of the code, once the form is valid: read from the photo (decoded on the
        server), else the pasted link; None, with the reason added to the form, when there is
        none."""
        photo, link = self.cleaned_data["photo"], self.cleaned_data["link"].strip()
        if photo is None:
            if not link:
                self.add_error("link", _("Paste the link of the QR code or upload its photo."))
                return None
            return link
        max_bytes = settings.QR_IMAGE_MAX_BYTES
        try:
            if photo.size > max_bytes:  # before reading it: never 20 MB into memory
                raise images.ImageError("too_large", "upload too large")
            return images.decode_single(photo.read())
        except images.ImageError as exc:
            self.add_error("photo", texts.image_error_text(exc.code, max_bytes=max_bytes))
            return None


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
