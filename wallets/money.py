"""Amounts: integer tyiyn inside, `1 234,50 сом` outside."""

import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .digits import ascii_digits

# A single amount above this is refused everywhere (10 million som).
MAX_AMOUNT = 10_000_000 * 100

_AMOUNT = re.compile(r"^[0-9]{1,12}([.,][0-9]{1,2})?$")


def format_som(tyiyn: int | None, *, unit: bool = True) -> str:
    """12345650 → '123 456,50 сом'. Negative amounts keep their sign."""
    if tyiyn is None:
        return ""
    sign = "-" if tyiyn < 0 else ""
    som, rest = divmod(abs(int(tyiyn)), 100)
    grouped = f"{som:,}".replace(",", " ")
    text = f"{sign}{grouped},{rest:02d}"
    if not unit:
        return text
    return _("%(amount)s som") % {"amount": text}


def parse_som(raw) -> int:
    """'1 234,5' → 123450 tyiyn. Raises ValidationError with a message in the user's language."""
    if isinstance(raw, Decimal):
        raw = format(raw, "f")
    text = ascii_digits(raw).strip().replace(" ", "").replace("\u00a0", "")
    if not text:
        raise ValidationError(_("Enter the amount."), code="required")
    if text.startswith("-"):
        raise ValidationError(_("The amount must be greater than zero."), code="negative")
    if re.match(r"^[0-9]+[.,][0-9]{3,}$", text):
        raise ValidationError(
            _("The amount can have at most 2 digits after the comma (tyiyn)."), code="decimals"
        )
    if not _AMOUNT.match(text):
        raise ValidationError(
            _("Enter the amount in som with digits, for example 150 or 150,50."), code="invalid"
        )
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_("Enter the amount in som with digits."), code="invalid") from None
    tyiyn = int(value * 100)
    if tyiyn <= 0:
        raise ValidationError(_("The amount must be greater than zero."), code="zero")
    if tyiyn > MAX_AMOUNT:
        raise ValidationError(
            _("The amount is too large: at most %(max)s.") % {"max": format_som(MAX_AMOUNT)},
            code="too_large",
        )
    return tyiyn
