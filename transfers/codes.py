"""Transfers by QR code: every wallet's personal static ELQR code («Мой QR»), a request for a
fixed amount with its share link, and reading a scanned code into the transfer's recipient.

The code is built by the ELQR codec (qr.elqr through qr.codes) and read by the same resolver
the QR payments use (qr.services.code_read); the transfer itself is transfers.services'
(quote → token → transfer_create), so limits, refusals and idempotency are the same.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _

from qr import codes as qr_codes
from qr import elqr
from qr import services as qr_services
from wallets import operations
from wallets.models import Wallet

from . import services
from .models import short_name

NAME_MAX = 25  # field 59


def wallet_code(wallet: Wallet, *, amount: int | None = None) -> elqr.ElqrCode:
    """The wallet's personal static code: our provider id, the wallet number as the recipient
    id (not editable), and either no amount (the payer enters it) or a fixed `amount`."""
    name = short_name(wallet.user)
    return qr_codes.our_code(
        type="static",
        recipient_id=qr_codes.wallet_recipient_id(wallet.number),
        recipient_editable=False,
        amount_editable=amount is None,
        amount=amount,
        # The name other apps show (we show ours, from our records): never the bare number.
        name=name[:NAME_MAX] if wallet.user.full_name.strip() else None,
    )


def wallet_link(wallet: Wallet, *, amount: int | None = None) -> str:
    return qr_codes.link(wallet_code(wallet, amount=amount))


def share_path(link: str) -> str:
    """Our page that opens the transfer to the code's wallet (for any signed-in wallet)."""
    return reverse("transfers:qr") + "?" + urlencode({"c": link})


@dataclass(frozen=True)
class Scan(services.RecipientShown):
    """A code read and resolved on the server: the recipient's wallet, from our records."""

    code: elqr.ElqrCode
    link: str
    recipient: Wallet

    @property
    def fixed_amount(self) -> int | None:
        """The amount the sender cannot change, or None when the sender enters it."""
        return self.code.fixed_amount


def scan_resolve(text: str, *, wallet: Wallet) -> Scan:
    """The wallet a scanned code transfers to, for the sender `wallet`.

    Raises a refusal: qr.services.code_read's (the codec's reasons, `foreign`); `merchant`
    (our merchant's code: paid in «Оплата по QR-коду»); `unknown_payee`; `no_wallet` (a
    number without a Kapchyk wallet); `recipient_blocked`; `to_self` (the sender's own code).
    """
    code = qr_services.code_read(text)
    number = qr_codes.wallet_number_of(code)
    if number is None:
        if code.merchant_id or (code.recipient_id or "").startswith("m"):
            raise operations.refusal(
                "merchant",
                _("This is a merchant's QR code: pay it in «Pay by QR code»."),
            )
        raise operations.refusal("unknown_payee", _("We do not know the payee of this QR code."))
    try:
        recipient = services.recipient_find(number=number)
    except ValidationError as exc:
        # Its refusal (no_wallet, recipient_blocked) is on the `number` field: here, the code's.
        entries = [entry for errors in exc.error_dict.values() for entry in errors]
        raise ValidationError({NON_FIELD_ERRORS: entries}) from None
    if recipient.pk == wallet.pk:
        raise operations.refusal(
            "to_self", _("This is your own QR code: scan the recipient's code.")
        )
    return Scan(code=code, link=text.strip(), recipient=recipient)


def scan_quote(*, wallet: Wallet, scan: Scan, amount) -> services.Quote:
    """transfers.services.transfer_quote for the code's recipient; a code with a fixed amount
    refuses any other amount (`amount_fixed`), and `amount` None takes the fixed one."""
    amount = qr_services.amount_of_code(scan.fixed_amount, amount)
    return services.transfer_quote(wallet=wallet, number=scan.recipient.number, amount=amount)
