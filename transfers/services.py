"""Wallet → wallet transfers, on the shared life cycle (wallets.operations):

quote (the recipient's wallet, the amount, the fee, the balance) → a one-time token bound to
the recipient, amount and fee → transfer_create: one durable transaction with the
WalletTransfer row, its ledger legs (wallet → wallet, and wallet → fees when there is a fee),
and the notifications (in-app and SMS) of both sides. It settles in that commit.
"""

import math
import secrets
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import Notification
from notifications.services import notify
from wallets import ledger, operations
from wallets.models import Account, Transfer, Wallet
from wallets.money import format_som
from wallets.phones import normalize_wallet_number

from .models import WalletTransfer, format_code, masked_number, short_name

KIND = "transfer"
_CODE_ATTEMPTS = 5


def transfer_fee(amount: int) -> int:
    """The fee for sending `amount` tyiyn: TRANSFER_FEE_FIXED + TRANSFER_FEE_PERCENT of the
    amount, rounded up to a tyiyn (0 by default)."""
    percent = settings.TRANSFER_FEE_PERCENT or 0
    variable = math.ceil(amount * percent / 100 - 1e-9) if percent else 0
    return int(settings.TRANSFER_FEE_FIXED or 0) + max(0, variable)


class RecipientShown:
    """How a page shows the `recipient` wallet: «Имя Ф.» and the masked number."""

    recipient: Wallet

    @property
    def recipient_name(self) -> str:
        return short_name(self.recipient.user)

    @property
    def recipient_number(self) -> str:
        return masked_number(self.recipient.number)


@dataclass(frozen=True)
class Quote(RecipientShown):
    sender: Wallet
    recipient: Wallet
    amount: int
    fee: int

    @property
    def total(self) -> int:
        return self.amount + self.fee

    @cached_property
    def balance_after(self) -> int:
        return ledger.balance_of(self.sender.account) - self.total

    @property
    def subject(self) -> str:
        return operations.subject_digest(self.recipient.pk, self.recipient.number)


def recipient_find(*, number: str) -> Wallet:
    """The wallet of `number` (typed in any usual form), or a refusal on the `number` field:
    the phone rules' codes, `no_wallet`, `recipient_blocked`."""
    try:
        e164 = normalize_wallet_number(number)
    except ValidationError as exc:
        raise ValidationError({"number": exc.error_list}) from None
    wallet = Wallet.objects.with_account().filter(number=e164).first()
    if wallet is None:
        raise operations.refusal(
            "no_wallet",
            _("This number has no Kapchyk wallet yet."),
            field="number",
            number=e164,
        )
    if not wallet.user.is_active:
        raise operations.refusal(
            "recipient_blocked",
            _("This wallet is blocked and cannot receive transfers."),
            field="number",
        )
    return wallet


def transfer_quote(*, wallet: Wallet, number: str, amount, check_balance: bool = True) -> Quote:
    """Check the recipient and the amount and price the transfer; moves nothing.

    Raises ValidationError({"number": [...], "amount": [...]}) worded in the current
    language, each entry with its code: the phone rules' codes, `no_wallet`,
    `recipient_blocked`, `to_self`, wallets.operations' amount codes; and, with
    `check_balance`, `insufficient_funds` (non-field) when the balance cannot cover it.
    """
    errors: dict[str, list] = {}
    recipient = None
    try:
        recipient = recipient_find(number=number)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if recipient is not None and recipient.pk == wallet.pk:
        errors["number"] = [
            ValidationError(_("This is your own wallet: enter another number."), code="to_self")
        ]
    amount_errors = operations.amount_problems(amount)
    if amount_errors:
        errors["amount"] = amount_errors
    if errors:
        raise ValidationError(errors)
    quote = Quote(sender=wallet, recipient=recipient, amount=amount, fee=transfer_fee(amount))
    if check_balance and quote.balance_after < 0:
        raise _short(quote)
    operations.limits_check(wallet.account, out=quote.total)  # the sender's level
    return quote


def _short(quote: Quote) -> ValidationError:
    return operations.insufficient_funds(
        balance=ledger.balance_of(quote.sender.account), total=quote.total
    )


def transfer_token_new(*, wallet: Wallet, quote: Quote) -> str:
    """The one-time token of a check page: bound to the recipient, the amount and the fee."""
    return operations.token_issue(
        wallet=wallet, kind=KIND, subject=quote.subject, amount=quote.amount, fee=quote.fee
    )


def _same(existing: WalletTransfer, wallet: Wallet, number: str, amount) -> WalletTransfer:
    try:
        e164 = normalize_wallet_number(number)
    except ValidationError:
        e164 = None
    same = (
        existing.sender_id == wallet.pk
        and existing.recipient.number == e164
        and existing.amount == amount
    )
    if not same:
        raise operations.token_reused()
    return existing


def _new_code() -> str:
    return str(10**11 + secrets.randbelow(9 * 10**11))


def transfer_create(
    *,
    wallet: Wallet,
    number: str,
    amount: int,
    token: str,
    channel: str = WalletTransfer.Channel.WEB,
) -> WalletTransfer:
    """Send `amount` tyiyn from `wallet` to the wallet of `number`, as the check page bound
    by `token` showed it.

    Guarantees: at most one WalletTransfer and one movement per `token` — the same token
    with the same values returns that transfer and moves nothing (a double click, a
    refresh, a resubmit), with other values it raises `token_reused`; a token bound to
    another recipient or amount is refused (`token`), to another fee (`price_changed`).
    One durable transaction creates the row, moves the money with ledger.move (one leg
    wallet → wallet with its own key, a fee leg wallet → fees when there is a fee) and
    writes both sides' notifications and SMS, which are sent after the commit. A refusal
    (the quote's codes, `insufficient_funds`) moves nothing.
    """
    existing = WalletTransfer.objects.filter(token=token).select_related("recipient").first()
    if existing is not None:
        return _same(existing, wallet, number, amount)
    bound = operations.token_open(wallet=wallet, kind=KIND, token=token)
    quote = transfer_quote(wallet=wallet, number=number, amount=amount, check_balance=False)
    bound.check(subject=quote.subject, amount=quote.amount, fee=quote.fee)
    operation = WalletTransfer(
        sender=quote.sender,
        recipient=quote.recipient,
        amount=quote.amount,
        fee=quote.fee,
        total=quote.total,
        token=token,
        channel=channel,
        created_at=timezone.now(),
    )
    for _attempt in range(_CODE_ATTEMPTS):
        operation.pk, operation.code = None, _new_code()
        try:
            with transaction.atomic(durable=True):
                operation.save(force_insert=True)
                ledger.move(_legs(operation), created_by=wallet.user_id)
                _notify(operation)
        except ledger.LimitExceeded as exc:
            raise operations.limit_exceeded(limit=exc.limit, left=exc.left) from None
        except ledger.InsufficientFunds:
            raise _short(quote) from None
        except IntegrityError:
            existing = (
                WalletTransfer.objects.filter(token=token).select_related("recipient").first()
            )
            if existing is not None:
                return _same(existing, wallet, number, amount)
            continue  # the random code was taken; draw another
        return operation
    raise RuntimeError("could not draw a free transfer code")  # pragma: no cover


def _legs(operation: WalletTransfer) -> list[ledger.Leg]:
    memo = operation.memo
    legs = [
        ledger.Leg(
            operation.sender.account,
            operation.recipient.account,
            operation.amount,
            operation.ledger_key("move"),
            Transfer.Kind.WALLET_TRANSFER,
            memo,
        )
    ]
    if operation.fee:
        legs.append(
            ledger.Leg(
                operation.sender.account,
                ledger.system_account(Account.Kind.FEES),
                operation.fee,
                operation.ledger_key("fee"),
                Transfer.Kind.TRANSFER_FEE,
                memo,
            )
        )
    return legs


def _party(wallet: Wallet) -> str:
    """«Имя Ф. (+996 555 *** 456)», or only the masked number when no name is known."""
    name, number = short_name(wallet.user), masked_number(wallet.number)
    return number if name == number else f"{name} ({number})"


def sent_text(operation: WalletTransfer) -> str:
    values = {
        "amount": format_som(operation.amount),
        "who": _party(operation.recipient),
        "code": format_code(operation.code),
    }
    if operation.fee:
        values["fee"] = format_som(operation.fee)
        return (
            _("Kapchyk: %(amount)s sent to %(who)s, fee %(fee)s. Transfer code %(code)s.") % values
        )
    return _("Kapchyk: %(amount)s sent to %(who)s. Transfer code %(code)s.") % values


def received_text(operation: WalletTransfer) -> str:
    return _("Kapchyk: %(amount)s received from %(who)s. Transfer code %(code)s.") % {
        "amount": format_som(operation.amount),
        "who": _party(operation.sender),
        "code": format_code(operation.code),
    }


def _notify(operation: WalletTransfer) -> None:
    """Both sides, in their own language, in the transaction that moves the money."""
    url = operation.get_absolute_url()
    notify(
        user=operation.sender.user,
        kind=Notification.Kind.TRANSFER_SENT,
        text=lambda: sent_text(operation),
        url=url,
        sms=True,
    )
    notify(
        user=operation.recipient.user,
        kind=Notification.Kind.TRANSFER_RECEIVED,
        text=lambda: received_text(operation),
        url=url,
        sms=True,
    )
