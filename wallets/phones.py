"""Wallet numbers: Kyrgyz mobile numbers of Megacom, Beeline and O!.

`0555 123 456`, `555123456`, `+996 555 12-34-56` and `996555123456` all mean +996555123456.
"""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .digits import ascii_digits

MEGACOM, BEELINE, O_MOBILE = "megacom", "beeline", "o"

OPERATOR_NAMES = {MEGACOM: "Megacom", BEELINE: "Beeline", O_MOBILE: "O!"}


def _prefixes(*specs):
    out = {}
    for spec, operator in specs:
        for part in spec.split(","):
            lo, _sep, hi = part.strip().partition("-")
            for n in range(int(lo), int(hi or lo) + 1):
                out[str(n)] = operator
    return out


# The 3-digit prefixes phonenumbers 9.0.43 attributes to the three wallet operators
# (flows.md, "Wallet numbers").
PREFIX_OPERATOR = _prefixes(
    ("550-559,755,880,888,990,995-999", MEGACOM),
    ("220-229,600,770-779", BEELINE),
    ("500-509,700-709", O_MOBILE),
)

USSD_OPERATORS = {MEGACOM, BEELINE}

_ALLOWED = re.compile(r"^[0-9\s()+\-.]+$", re.ASCII)


def normalize_wallet_number(raw: str) -> str:
    """Return the E.164 form of a wallet number or raise ValidationError in the user's language."""
    value = ascii_digits(raw or "").strip()
    if not value:
        raise ValidationError(_("Enter your mobile number."), code="required")
    if not _ALLOWED.match(value):
        raise ValidationError(
            _("A mobile number has digits only, for example 0555 123 456."), code="invalid"
        )
    digits = re.sub(r"[^0-9]", "", value)
    if value.startswith("+") and not digits.startswith("996"):
        raise ValidationError(
            _("Only Kyrgyz mobile numbers (+996) can be wallet numbers."), code="foreign"
        )
    if len(digits) == 9:
        national = digits
    elif len(digits) == 10 and digits.startswith("0"):
        national = digits[1:]
    elif len(digits) == 12 and digits.startswith("996"):
        national = digits[3:]
    elif len(digits) > 9 and not digits.startswith(("0", "996")):
        raise ValidationError(
            _("Only Kyrgyz mobile numbers (+996) can be wallet numbers."), code="foreign"
        )
    else:
        raise ValidationError(
            _("A mobile number has 9 digits after +996, for example 0555 123 456."),
            code="invalid",
        )
    try:
        parsed = phonenumbers.parse("+996" + national)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        raise ValidationError(
            _("This is not a valid Kyrgyz number. Check the digits."), code="invalid"
        )
    if phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError(
            _("This is a landline number. A wallet number is a mobile number."), code="landline"
        )
    if national[:3] not in PREFIX_OPERATOR:
        raise ValidationError(
            _("Wallets are served for Megacom, Beeline and O! numbers only."), code="operator"
        )
    return "+996" + national


def operator_of(e164: str) -> str | None:
    if not e164.startswith("+996") or len(e164) != 13:
        return None
    return PREFIX_OPERATOR.get(e164[4:7])


def format_number(e164: str) -> str:
    """+996555123456 → +996 555 123 456 (for display)."""
    if e164.startswith("+996") and len(e164) == 13:
        n = e164[4:]
        return f"+996 {n[:3]} {n[3:6]} {n[6:]}"
    return e164
