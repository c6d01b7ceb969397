"""Kapchyk's side of ELQR: our provider id and router, and what the `qr` command prints.

qr/elqr.py knows the standard and nothing of Django; this module adds our settings.
"""

import re

from django.conf import settings

from qr import elqr

# A person's wallet as the recipient id (field 32.10) of our static code: its number, digits
# only (``996555123456``); ``+996…`` is read too.
_WALLET_NUMBER = re.compile(r"\+?(996[0-9]{9})", re.ASCII)

# The keys of `manage.py qr decode`, in this order. Operators and scripts read them: keep them.
DECODE_KEYS = (
    "valid",
    "error",
    "version",
    "type",
    "provider_id",
    "service_code",
    "recipient_id",
    "transaction_id",
    "amount_editable",
    "recipient_editable",
    "merchant_id",
    "service_name",
    "comment",
    "mcc",
    "currency",
    "amount",
    "name",
    "checksum",
    "payable_here",
)


def is_ours(code: elqr.ElqrCode) -> bool:
    """Whether a (valid) code names Kapchyk as its provider, so that we can pay it."""
    return code.provider_id.casefold() == settings.ELQR_PROVIDER_ID.casefold()


def wallet_number_of(code: elqr.ElqrCode) -> str | None:
    """The wallet number (E.164) a code of ours pays, when it names a person's wallet rather
    than a merchant (no merchant id, a Kyrgyz number as the recipient id); else None."""
    if not is_ours(code) or code.merchant_id:
        return None
    match = _WALLET_NUMBER.fullmatch(code.recipient_id or "")
    return "+" + match.group(1) if match else None


def wallet_recipient_id(number: str) -> str:
    """The recipient id (field 32.10) of a wallet's personal code: its number, digits only."""
    return number.removeprefix("+")


def our_code(**fields) -> elqr.ElqrCode:
    """A code with our provider id: ``our_code(type="static", recipient_id=..., name=...)``."""
    return elqr.ElqrCode(provider_id=settings.ELQR_PROVIDER_ID, **fields)


def link(code: elqr.ElqrCode) -> str:
    """The canonical link of a code, on our router."""
    return elqr.build(code, router=settings.ELQR_ROUTER_URL)


def describe(text: str) -> dict:
    """What `manage.py qr decode` prints for a link: every key always present."""
    out = dict.fromkeys(DECODE_KEYS)
    try:
        code = elqr.parse(text)
    except elqr.ElqrError as exc:
        out.update(valid=False, error=str(exc), payable_here=False)
        return out
    out.update(
        valid=True,
        payable_here=is_ours(code),
        **{key: getattr(code, key) for key in DECODE_KEYS[2:-1]},
    )
    return out
