"""What a payer reads when a code or a photo is refused, by the reason code of ElqrError or
ImageError. The codec's own messages are English details for operators; these are for people,
in their language, and say what to do."""

from django.utils.translation import gettext_lazy as _

NOT_A_CODE = _("This is not a link of a payment QR code.")
NOT_ELQR = _("This link is not a payment QR code of the ELQR standard.")
DAMAGED = _("The QR code is damaged or was read incompletely. Scan it again.")
NONSTANDARD = _("This QR code is not made to the ELQR standard, so it cannot be paid.")

CODE_TEXTS = {
    "empty": NOT_A_CODE,
    "too_long": NOT_A_CODE,
    "not_a_link": NOT_A_CODE,
    "not_elqr": NOT_ELQR,
    "bad_encoding": DAMAGED,
    "tlv_truncated": DAMAGED,
    "tlv_overrun": DAMAGED,
    "tlv_malformed": DAMAGED,
    "checksum_missing": DAMAGED,
    "checksum_not_last": DAMAGED,
    "checksum_invalid": DAMAGED,
    "checksum_mismatch": DAMAGED,
    "outside_bmp": NONSTANDARD,
    "repeated_field": NONSTANDARD,
    "version_missing": NONSTANDARD,
    "version_invalid": NONSTANDARD,
    "type_missing": NONSTANDARD,
    "type_invalid": NONSTANDARD,
    "payee_missing": NONSTANDARD,
    "flag_invalid": NONSTANDARD,
    "field_too_long": NONSTANDARD,
    "field_empty": NONSTANDARD,
    "field_invalid": NONSTANDARD,
    "mcc_invalid": NONSTANDARD,
    "amount_invalid": NONSTANDARD,
    "currency_invalid": _("This QR code asks for a currency other than the som."),
    "amount_required": _("This QR code has no amount to pay. Ask for a new code."),
}

IMAGE_TEXTS = {
    "not_an_image": _("The file is not a picture. Upload a photo or a screenshot (JPEG or PNG)."),
    "too_large": _("The picture is too large. Upload one of at most %(megabytes)s MB."),
    "too_many_pixels": _("The picture is too large. Upload a smaller photo or a screenshot."),
    "no_qr": _("No QR code was found in the picture. Take the photo closer and straight on."),
    "several_qr": _("The picture holds several QR codes. Take a photo of only one."),
}


def code_error_text(code: str) -> str:
    """The payer's message for an ElqrError reason code."""
    return str(CODE_TEXTS.get(code, NONSTANDARD))


def image_error_text(code: str, *, max_bytes: int) -> str:
    """The payer's message for an ImageError reason code."""
    text = IMAGE_TEXTS.get(code, IMAGE_TEXTS["not_an_image"])
    return (
        str(text) % {"megabytes": max_bytes // (1024 * 1024)} if code == "too_large" else str(text)
    )
