"""Intake of a payment: the quote, the one-time token and payment_create — the payment, its
hold and (for an internal provider) its settlement and SMS in one durable transaction.

The life cycle is wallets.operations'; this module adds what is a bill payment's own: the
provider's account rules, its fee, its gateway's check, and the ledger legs of a payment.
"""

import logging
import secrets
from dataclasses import dataclass
from functools import cached_property

from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from providers.gateways import Outcome, Status, gateway_for
from providers.models import Provider
from providers.validators import normalise
from wallets import ledger, limits, operations
from wallets.models import Account, Transfer, Wallet

from .. import results
from ..models import Payment
from .texts import tell_failed, tell_succeeded

logger = logging.getLogger(__name__)

KIND = "payment"
_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class Quote:
    provider: Provider
    account: str
    amount: int
    fee: int
    total: int
    holder: str = ""  # the account's holder, as the provider's check named it
    wallet: Wallet | None = None

    @cached_property
    def balance_after(self) -> int:
        """The balance once paid (read when a page shows it; may be negative)."""
        return ledger.balance_of(self.wallet.account) - self.total

    @property
    def enough(self) -> bool:
        return self.balance_after >= 0

    @cached_property
    def near_limits(self) -> list:
        """The outgoing limits this payment takes above 80 % of (wallets.limits.near)."""
        return limits.near(self.wallet.account, out=self.total)

    @property
    def subject(self) -> str:
        return operations.subject_digest(self.provider.pk, self.account)


def payment_quote(
    *, wallet: Wallet, provider: Provider, account: str, amount: int, check: bool = True
) -> Quote:
    """Check the account and amount and price the payment; moves nothing.

    Raises ValidationError({"account": [...], "amount": [...]}) in the current language,
    each entry with its code (wallets.operations), and a non-field error for an inactive
    provider. With `check`, once the input passes our own rules, the provider's gateway
    checks the account (an HTTP call for an OSMP provider, made outside any transaction):
    a refusal is raised with the provider's meaning, and a holder's name it returns is in
    `Quote.holder`. `balance_after` may be negative: the caller shows it; payment_create
    refuses it.
    """
    errors: dict[str, list] = {}
    if not provider.active:
        errors[NON_FIELD_ERRORS] = [
            ValidationError(_("This service is not available now."), code="unavailable")
        ]
    try:
        account = provider.validate_account(account)
    except ValidationError as exc:
        errors["account"] = exc.error_list
    amount_errors = operations.amount_problems(
        amount, minimum=provider.min_amount, maximum=provider.max_amount
    )
    if amount_errors:
        errors["amount"] = amount_errors
    if errors:
        raise ValidationError(errors)
    fee = provider.fee_for(amount)
    # The limits as the wallet's row was loaded (the pages load it per request): «Далее»
    # already refuses; payment_create's ledger.move checks them again under the row lock.
    operations.limits_check(wallet.account, out=amount + fee)
    holder = _provider_check(provider, account, amount).holder if check else ""
    return Quote(
        provider=provider,
        account=account,
        amount=amount,
        fee=fee,
        total=amount + fee,
        holder=holder,
        wallet=wallet,
    )


def _provider_check(provider: Provider, account: str, amount: int) -> Outcome:
    outcome = gateway_for(provider).check(provider, account=account, amount=amount)
    if outcome.ok:
        return outcome
    if outcome.status == Status.FAILED:
        message = results.message_for(outcome.code)
        field = results.field_of(outcome.code) or NON_FIELD_ERRORS
    else:
        message, field = str(results.UNAVAILABLE), NON_FIELD_ERRORS
    logger.info("check refused by %s: %s", provider.slug, outcome.message)
    raise operations.refusal(f"provider_{outcome.code or 'unavailable'}", message, field=field)


_HOLDER_SALT = "billing.holder"


def holder_seal(*, account: str, holder: str) -> str:
    """The holder's name as the check returned it, signed to the account, for the confirm
    form (a tampered or swapped value is dropped by holder_unseal)."""
    return signing.dumps([account, holder[:200]], salt=_HOLDER_SALT, compress=True)


def holder_unseal(*, sealed: str, account: str) -> str:
    try:
        value = signing.loads(sealed or "", salt=_HOLDER_SALT, max_age=operations.TOKEN_MAX_AGE)
    except signing.BadSignature:
        return ""
    if not isinstance(value, list) or len(value) != 2 or value[0] != normalise(account):
        return ""
    return str(value[1])[:200]


def payment_token_new(*, wallet: Wallet, quote: Quote | None = None) -> str:
    """A one-time token for a confirm page: bound to `wallet` and, with `quote`, to what
    the page shows (provider, account, amount, fee)."""
    if quote is None:
        return operations.token_issue(wallet=wallet, kind=KIND)
    return operations.token_issue(
        wallet=wallet, kind=KIND, subject=quote.subject, amount=quote.amount, fee=quote.fee
    )


def _same_payment(existing: Payment, wallet, provider, account, amount) -> Payment:
    same = (
        existing.wallet_id == wallet.pk
        and existing.provider_id == provider.pk
        and existing.account == normalise(account)
        and existing.amount == amount
    )
    if not same:
        raise operations.token_reused()
    return existing


def _new_code() -> str:
    # 12 digits, never starting with 0 so that it survives spreadsheets and reading aloud.
    return str(10**11 + secrets.randbelow(9 * 10**11))


def payment_create(
    *,
    wallet: Wallet,
    provider: Provider,
    account: str,
    amount: int,
    token: str,
    channel: str = Payment.Channel.WEB,
    holder: str = "",
) -> Payment:
    """Pay `provider` from `wallet`, as the confirm page bound by `token` showed it.

    Guarantees: at most one Payment and one hold per `token` — the same token with the same
    values returns that Payment and moves nothing, with other values it raises
    ValidationError (`token_reused`); a token bound to another amount or account is refused
    (`token`), and one bound to another fee (staff changed it meanwhile) too
    (`price_changed`): nobody pays a total they were not shown. One durable transaction
    creates the Payment and moves its money: for an internal provider the hold, the
    settlement (wallet → suspense → provider, fee → fees) and the SMS, so the payment is
    succeeded when it commits; for a provider over the network the hold (wallet → suspense)
    and the task that sends it, so no network call is made under a lock. Invalid input or
    a short balance raise ValidationError with nothing moved.
    """
    try:
        bound = operations.token_open(wallet=wallet, kind=KIND, token=token)
        quote = payment_quote(
            wallet=wallet, provider=provider, account=account, amount=amount, check=False
        )
        bound.check(subject=quote.subject, amount=quote.amount, fee=quote.fee)
    except ValidationError as exc:
        # A used token keeps leading back to its payment, however old it is; used with
        # other values, it says so.
        if operations.codes_of(exc) & {"token_expired", "token", "price_changed"}:
            existing = Payment.objects.filter(token=token).first()
            if existing is not None:
                return _same_payment(existing, wallet, provider, account, amount)
        raise
    gateway = gateway_for(provider)
    now = timezone.now()
    payment = Payment(
        wallet=wallet,
        provider=provider,
        account=quote.account,
        amount=quote.amount,
        fee=quote.fee,
        total=quote.total,
        token=token,
        channel=channel,
        holder=(holder or "")[:200],
        created_at=now,
        next_attempt_at=now,  # a background attempt is due at once
    )
    answer = None
    if not gateway.asynchronous:
        # In process, no network: its answer settles the payment in the same commit.
        answer = _answer_at_once(gateway, payment, now)
    for _attempt in range(_CODE_ATTEMPTS):
        payment.pk, payment.code = None, _new_code()
        try:
            with transaction.atomic(durable=True):
                payment.save(force_insert=True)
                legs = _legs(payment, settle=payment.status)
                # Counted in the limits' periods of `now`, the moment its refund gives back.
                ledger.move(legs, created_by=wallet.user_id, now=now)
                if payment.status == Payment.Status.SUCCEEDED:
                    tell_succeeded(payment)
                elif payment.status == Payment.Status.FAILED:
                    tell_failed(payment)
                elif answer is None:
                    from .settlement import enqueue_attempt

                    enqueue_attempt(payment.pk)
        except ledger.LimitExceeded as exc:
            raise operations.limit_exceeded(limit=exc.limit, left=exc.left) from None
        except ledger.InsufficientFunds:
            raise operations.insufficient_funds(
                balance=ledger.balance_of(wallet.account), total=quote.total
            ) from None
        except IntegrityError:
            existing = Payment.objects.filter(token=token).first()
            if existing is not None:
                return _same_payment(existing, wallet, provider, account, amount)
            continue  # the random code was taken; draw another
        break
    else:  # pragma: no cover - 5 collisions in 9 * 10**11 codes
        raise RuntimeError("could not draw a free payment code")
    if answer is None:
        payment.refresh_from_db()  # an in-process task backend may have sent it already
    return payment


def _answer_at_once(gateway, payment: Payment, now) -> Outcome:
    """A synchronous gateway's answer, applied to the payment before it is written."""
    from .settlement import retry_delay

    answer = gateway.pay(payment)
    payment.attempts, payment.last_attempt_at = 1, now
    payment.result_code = answer.code
    if answer.status == Status.SUCCEEDED:
        payment.status, payment.settled_at = Payment.Status.SUCCEEDED, now
        payment.gateway_txn, payment.next_attempt_at = (answer.reference or "")[:64], None
    elif answer.status == Status.FAILED:
        payment.status, payment.settled_at = Payment.Status.FAILED, now
        payment.error, payment.next_attempt_at = answer.message[:255], None
    else:  # nothing known yet: the sweep asks again later
        payment.error = answer.message[:255]
        payment.next_attempt_at = now + retry_delay(1)
        if answer.status == Status.UNSURE:
            payment.status, payment.next_attempt_at = Payment.Status.NEEDS_ATTENTION, None
    return answer


def _legs(payment: Payment, *, settle: str) -> list[ledger.Leg]:
    """The hold (wallet → suspense, the total) and, for a payment settled in the same
    commit, its settlement (settlement_legs) or its refund (refund_leg)."""
    suspense = ledger.system_account(Account.Kind.SUSPENSE)
    legs = [
        ledger.Leg(
            payment.wallet.account,
            suspense,
            payment.total,
            payment.ledger_key("hold"),
            Transfer.Kind.PAYMENT_HOLD,
            payment.memo,
        )
    ]
    if settle == Payment.Status.SUCCEEDED:
        legs += settlement_legs(payment)
    elif settle == Payment.Status.FAILED:
        legs.append(refund_leg(payment))
    return legs


def refund_leg(payment: Payment) -> ledger.Leg:
    return ledger.Leg(
        ledger.system_account(Account.Kind.SUSPENSE),
        payment.wallet.account,
        payment.total,
        payment.ledger_key("refund"),
        Transfer.Kind.PAYMENT_REFUND,
        payment.memo,
        returns=payment.created_at,  # the hold's moment: its limits are given back
    )


def settlement_legs(payment: Payment) -> list[ledger.Leg]:
    suspense = ledger.system_account(Account.Kind.SUSPENSE)
    legs = [
        ledger.Leg(
            suspense,
            payment.provider.account,
            payment.amount,
            payment.ledger_key("settle"),
            Transfer.Kind.PAYMENT_SETTLE,
            payment.memo,
        )
    ]
    if payment.fee:
        legs.append(
            ledger.Leg(
                suspense,
                ledger.system_account(Account.Kind.FEES),
                payment.fee,
                payment.ledger_key("fee"),
                Transfer.Kind.PAYMENT_FEE,
                payment.memo,
            )
        )
    return legs
