"""Payments: quote (+ the provider's check) → one-time token → hold (wallet → suspense) →
settle by the gateway.

Ledger keys of a payment (Payment.ledger_key): payment:<code>:hold (wallet → suspense,
the total), :settle (suspense → provider, the amount), :fee (suspense → fees, the fee),
:refund (suspense → wallet, the total). Every step is its own durable transaction and is
keyed, so a retried step never moves money twice.

Settlement (payment_attempt): an internal provider is settled at once, in the request; an
OSMP provider's payment is handed to the background task billing.tasks.payment_process
once the hold is committed. One run of the task is one pay request: it claims the attempt
(compare-and-set on status and attempt count, with a lease), calls the provider outside
any transaction, and records the answer — succeeded, failed (refunded), or pending again
with the next attempt after an exponential backoff; past the provider's retry budget the
payment needs attention (staff: payment_retry / payment_refund). The next attempt is
enqueued with run_after where the task backend can defer; `manage.py payments_retry`
sweeps every due payment too (backends that cannot defer, crashes, expired leases).
"""

import datetime
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from providers.gateways import Outcome, Status, gateway_for
from providers.models import Provider
from providers.validators import normalise
from wallets import ledger
from wallets.audit import Origin, audit_record
from wallets.models import Account, AuditLog, Transfer, User, Wallet
from wallets.money import MAX_AMOUNT, format_som
from wallets.sms import send_sms

from . import results
from .models import Favourite, Payment, format_code

logger = logging.getLogger(__name__)

# How long a confirm page may wait before «Оплатить» (a used token keeps working forever:
# it only ever leads back to its payment).
TOKEN_MAX_AGE = 60 * 60
_TOKEN_SALT = "billing.payment-token"
_CODE_ATTEMPTS = 5
FAVOURITES_PER_USER = 50


@dataclass(frozen=True)
class Quote:
    provider: Provider
    account: str
    amount: int
    fee: int
    total: int
    balance_after: int
    holder: str = ""  # the account's holder, as the provider's check named it

    @property
    def enough(self) -> bool:
        return self.balance_after >= 0


def _amount_errors(provider: Provider, amount) -> list[str]:
    if not isinstance(amount, int) or isinstance(amount, bool):
        return [_("Enter the amount in som with digits, for example 150 or 150,50.")]
    if amount <= 0:
        return [_("The amount must be greater than zero.")]
    if amount > MAX_AMOUNT:
        return [_("The amount is too large: at most %(max)s.") % {"max": format_som(MAX_AMOUNT)}]
    if amount < provider.min_amount:
        return [
            _("The minimum amount for this service is %(min)s.")
            % {"min": format_som(provider.min_amount)}
        ]
    if amount > provider.max_amount:
        return [
            _("The maximum amount for this service is %(max)s.")
            % {"max": format_som(provider.max_amount)}
        ]
    return []


def payment_quote(
    *, wallet: Wallet, provider: Provider, account: str, amount: int, check: bool = True
) -> Quote:
    """Check the account and amount and price the payment; moves nothing.

    Raises ValidationError({"account": [...], "amount": [...]}) in the current language
    (and a non-field error for an inactive provider). `balance_after` may be negative: the
    caller shows it; payment_create refuses it. With `check`, once the input passes our own
    rules, the provider's gateway checks the account (an HTTP call for an OSMP provider,
    made outside any transaction): a refusal is raised with the provider's meaning, and a
    holder's name it returns is in `Quote.holder`.
    """
    errors: dict[str, list[str]] = {}
    if not provider.active:
        errors[NON_FIELD_ERRORS] = [_("This service is not available now.")]
    try:
        account = provider.validate_account(account)
    except ValidationError as exc:
        errors["account"] = exc.messages
    amount_errors = _amount_errors(provider, amount)
    if amount_errors:
        errors["amount"] = amount_errors
    if errors:
        raise ValidationError(errors)
    holder = _provider_check(provider, account, amount).holder if check else ""
    fee = provider.fee_for(amount)
    total = amount + fee
    return Quote(
        provider=provider,
        account=account,
        amount=amount,
        fee=fee,
        total=total,
        balance_after=ledger.balance_of(wallet.account) - total,
        holder=holder,
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
    raise ValidationError(
        {field: [ValidationError(message, code=f"provider_{outcome.code or 'unavailable'}")]}
    )


_HOLDER_SALT = "billing.holder"


def holder_seal(*, account: str, holder: str) -> str:
    """The holder's name as the check returned it, signed to the account, for the confirm
    form (a tampered or swapped value is dropped by holder_unseal)."""
    return signing.dumps([account, holder[:200]], salt=_HOLDER_SALT, compress=True)


def holder_unseal(*, sealed: str, account: str) -> str:
    try:
        value = signing.loads(sealed or "", salt=_HOLDER_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return ""
    if not isinstance(value, list) or len(value) != 2 or value[0] != normalise(account):
        return ""
    return str(value[1])[:200]


def payment_token_new(*, wallet: Wallet) -> str:
    """A one-time token for a confirm page, bound to `wallet`, valid TOKEN_MAX_AGE seconds."""
    return signing.TimestampSigner(salt=_TOKEN_SALT).sign(
        f"{wallet.pk}.{secrets.token_urlsafe(12)}"
    )


def _token_error(message: str, code: str) -> ValidationError:
    return ValidationError({NON_FIELD_ERRORS: [ValidationError(message, code=code)]})


def _check_token(wallet: Wallet, token: str) -> None:
    if not isinstance(token, str) or not token or len(token) > 120:
        raise _token_error(_("The payment form is out of date. Check the payment again."), "token")
    signer = signing.TimestampSigner(salt=_TOKEN_SALT)
    try:
        value = signer.unsign(token, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise _token_error(
            _("The confirmation has expired. Check the payment again."), "token_expired"
        ) from None
    except signing.BadSignature:
        raise _token_error(
            _("The payment form is out of date. Check the payment again."), "token"
        ) from None
    if value.split(".", 1)[0] != str(wallet.pk):
        raise _token_error(_("The payment form is out of date. Check the payment again."), "token")


def _same_payment(existing: Payment, wallet, provider, account, amount) -> Payment:
    same = (
        existing.wallet_id == wallet.pk
        and existing.provider_id == provider.pk
        and existing.account == normalise(account)
        and existing.amount == amount
    )
    if not same:
        raise _token_error(
            _("This confirmation was already used for another payment. Check the payment again."),
            "token_reused",
        )
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
    """Pay `provider` from `wallet`: hold the total, then settle through the gateway.

    Guarantees: at most one Payment and one hold per `token` — the same token with the same
    values returns that Payment and moves nothing, with other values it raises
    ValidationError; the hold (wallet → suspense, amount + fee) and the Payment row commit
    together in one durable transaction, or neither does (invalid input or an insufficient
    balance raise ValidationError with nothing moved); settlement is a separate step
    (payment_attempt), so a gateway is never called while a lock is held: at once for an
    internal provider, in the background task (enqueued when the hold commits) for one
    over the network. The payment returned is as it stands then (pending while the
    provider has not answered).
    """
    existing = Payment.objects.filter(token=token).first() if isinstance(token, str) else None
    if existing is not None:
        return _same_payment(existing, wallet, provider, account, amount)
    _check_token(wallet, token)
    quote = payment_quote(
        wallet=wallet, provider=provider, account=account, amount=amount, check=False
    )
    suspense = ledger.system_account(Account.Kind.SUSPENSE)
    background = gateway_for(provider).asynchronous
    now = timezone.now()
    for _attempt in range(_CODE_ATTEMPTS):
        try:
            with transaction.atomic(durable=True):
                payment = Payment.objects.create(
                    wallet=wallet,
                    provider=provider,
                    account=quote.account,
                    amount=quote.amount,
                    fee=quote.fee,
                    total=quote.total,
                    code=_new_code(),
                    token=token,
                    channel=channel,
                    holder=(holder or "")[:200],
                    # A synchronous gateway's first attempt is claimed with the hold (it is
                    # sent right after the commit); a background one is due at once.
                    **(
                        {"next_attempt_at": now}
                        if background
                        else {
                            "attempts": 1,
                            "last_attempt_at": now,
                            "next_attempt_at": now + _lease(provider),
                        }
                    ),
                )
                ledger.transfer(
                    debit=wallet.account,
                    credit=suspense,
                    amount=payment.total,
                    key=payment.ledger_key("hold"),
                    kind=Transfer.Kind.PAYMENT_HOLD,
                    memo=payment.memo,
                    created_by=wallet.user,
                )
                if background:
                    transaction.on_commit(lambda pk=payment.pk: _enqueue(pk), robust=True)
        except ledger.InsufficientFunds:
            balance = ledger.balance_of(wallet.account)
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: [
                        ValidationError(
                            _(
                                "Not enough money in the wallet: the balance is %(balance)s, "
                                "the payment with the fee is %(total)s. Top up the wallet and "
                                "try again."
                            )
                            % {"balance": format_som(balance), "total": format_som(quote.total)},
                            code="insufficient_funds",
                        )
                    ]
                }
            ) from None
        except IntegrityError:
            # A twin request with the same token committed first: land on its payment.
            existing = Payment.objects.filter(token=token).first()
            if existing is not None:
                return _same_payment(existing, wallet, provider, account, amount)
            continue  # the random code was taken; draw another
        break
    else:  # pragma: no cover - 5 collisions in 9 * 10**11 codes
        raise RuntimeError("could not draw a free payment code")
    if background:
        payment.refresh_from_db()
        return payment
    return _send(payment, 1, now)


def _enqueue(payment_id: int, run_after=None) -> None:
    from .tasks import payment_process

    task = payment_process
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # the payments_retry sweep picks it up when it is due
        task = task.using(run_after=run_after)
    task.enqueue(payment_id)


def retry_delay(attempt: int) -> datetime.timedelta:
    """The pause after the `attempt`-th pay request failed temporarily: doubling from
    PAYMENT_RETRY_DELAY seconds, at most PAYMENT_RETRY_MAX_DELAY."""
    base = settings.PAYMENT_RETRY_DELAY
    seconds = min(base * 2 ** max(attempt - 1, 0), settings.PAYMENT_RETRY_MAX_DELAY)
    return datetime.timedelta(seconds=seconds)


def _due(now):
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def payment_attempt(*, payment: Payment, now: datetime.datetime | None = None) -> Payment:
    """Send one pay request for a pending payment whose attempt is due; record the answer.

    Guarantees: the attempt is claimed first by compare-and-set (status pending, the attempt
    count we read, due now), so two workers never send the same attempt; the claim holds a
    lease (the provider's timeout + PAYMENT_LEASE seconds), after which a crashed worker's
    attempt is due again. The provider is called outside any transaction, always with the
    payment's own txn_id. Its answer is recorded by compare-and-set too: succeeded (settled
    once, however many workers heard «OK»), failed (refunded once), or pending again with
    the next attempt after retry_delay() — or needs attention past the retry budget or on
    an answer that contradicts ours. A payment that is not pending, or not due, is returned
    as it is.
    """
    now = now or timezone.now()
    payment = Payment.objects.select_related("provider", "wallet__user").get(pk=payment.pk)
    if payment.status != Payment.Status.PENDING:
        return payment
    provider = payment.provider
    attempt = payment.attempts + 1
    lease = _lease(provider)
    with transaction.atomic(durable=True):
        claimed = (
            Payment.objects.filter(
                pk=payment.pk, status=Payment.Status.PENDING, attempts=payment.attempts
            )
            .filter(_due(now))
            .update(attempts=attempt, last_attempt_at=now, next_attempt_at=now + lease)
        )
    if not claimed:
        payment.refresh_from_db()
        return payment
    payment.attempts, payment.last_attempt_at = attempt, now
    return _send(payment, attempt, now)


def _lease(provider: Provider) -> datetime.timedelta:
    return datetime.timedelta(seconds=float(provider.timeout) + settings.PAYMENT_LEASE)


def _send(payment: Payment, attempt: int, now) -> Payment:
    """The claimed `attempt`: one pay request, outside any transaction; its answer recorded."""
    provider = payment.provider
    gateway = None
    try:
        gateway = gateway_for(provider)
        outcome = gateway.pay(payment)
    except Exception as exc:  # a bug must not leave the payment claimed and unseen
        logger.exception("gateway error on payment %s", payment.code)
        outcome = Outcome(Status.RETRY, f"gateway error: {exc.__class__.__name__}")
    if gateway is None or gateway.asynchronous or not outcome.ok:
        logger.info(
            "payment %s attempt %s at %s: %s %s",
            payment.code,
            attempt,
            provider.slug,
            outcome.status,
            outcome.message,
        )
    if outcome.status == Status.SUCCEEDED:
        return payment_succeed(payment=payment, reference=outcome.reference, code=outcome.code)
    if outcome.status == Status.FAILED:
        return payment_fail(payment=payment, reason=outcome.message, code=outcome.code)
    return _payment_postpone(payment, attempt, outcome, now)


def _payment_postpone(payment: Payment, attempt: int, outcome: Outcome, now) -> Payment:
    """pending → pending (next attempt later) or → needs attention; only if no other worker
    claimed a later attempt meanwhile."""
    later = max(now, timezone.now()) + retry_delay(attempt)
    give_up = outcome.status == Status.UNSURE or attempt >= payment.provider.retry_budget
    with transaction.atomic(durable=True):
        mine = Payment.objects.filter(
            pk=payment.pk, status=Payment.Status.PENDING, attempts=attempt
        )
        if give_up:
            updated = mine.update(
                status=Payment.Status.NEEDS_ATTENTION,
                next_attempt_at=None,
                error=outcome.message[:255],
                result_code=outcome.code,
                gateway_txn=outcome.reference[:64],
            )
            if updated:
                logger.warning(
                    "payment %s needs attention after %s attempts: %s",
                    payment.code,
                    attempt,
                    outcome.message,
                )
        else:
            updated = mine.update(
                next_attempt_at=later, error=outcome.message[:255], result_code=outcome.code
            )
            if updated:
                transaction.on_commit(lambda: _enqueue(payment.pk, later), robust=True)
    payment.refresh_from_db()
    return payment


def payments_due(*, now: datetime.datetime | None = None, limit: int = 500) -> list[Payment]:
    """Attempt every pending payment that is due (oldest first): the retry sweep.

    Safe alongside task workers and other sweeps: each attempt is claimed first.
    """
    now = now or timezone.now()
    done = []
    for pk in (
        Payment.objects.due(now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    ):
        done.append(payment_attempt(payment=Payment(pk=pk), now=now))
    return done


def payment_retry(
    *, payment: Payment, actor: User | None = None, origin: Origin | None = None
) -> bool:
    """Staff: try a payment that needs attention (or a pending one) again, now.

    Guarantees: compare-and-set (needs attention → pending, or pending → due now), logged
    in the audit log in the same transaction; the attempt itself runs in the background
    task once that commits. Returns False (nothing changed) for a settled payment.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        updated = Payment.objects.filter(
            pk=payment.pk,
            status__in=[Payment.Status.NEEDS_ATTENTION, Payment.Status.PENDING],
        ).update(status=Payment.Status.PENDING, next_attempt_at=now)
        if updated:
            if origin is not None:
                audit_record(
                    actor=actor,
                    action=AuditLog.Action.PAYMENT_RETRY,
                    origin=origin,
                    target=payment,
                    amount=payment.total,
                    details={"status": payment.status, "attempts": payment.attempts},
                )
            transaction.on_commit(lambda: _enqueue(payment.pk), robust=True)
    return bool(updated)


def payment_refund(
    *, payment: Payment, actor: User | None = None, origin: Origin | None = None, reason=""
) -> bool:
    """Staff: refund a payment that needs attention (the provider did not take it).

    Guarantees: only from needs attention (never while an attempt may be in flight);
    compare-and-set, so refunded at most once; the status, the refund (suspense → wallet)
    and the audit log row commit together; the SMS goes out after the commit.
    Returns False (nothing moved) for any other status.
    """
    refunded = _fail(
        payment,
        statuses=[Payment.Status.NEEDS_ATTENTION],
        reason=reason or "refunded by staff",
        code=payment.result_code,
        audit=(actor, origin),
    )
    return refunded


def payment_succeed(*, payment: Payment, reference: str = "", code: int | None = None) -> Payment:
    """pending (or needs attention) → succeeded: suspense → provider (amount) and
    suspense → fees (fee), SMS.

    Guarantees: compare-and-set on the status, so a payment settles at most once; the
    status and both transfers commit together; the SMS goes out only after the commit.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        updated = Payment.objects.filter(
            pk=payment.pk, status__in=[Payment.Status.PENDING, Payment.Status.NEEDS_ATTENTION]
        ).update(
            status=Payment.Status.SUCCEEDED,
            settled_at=now,
            error="",
            next_attempt_at=None,
            gateway_txn=(reference or "")[:64],
            result_code=code,
        )
        if updated:
            suspense = ledger.system_account(Account.Kind.SUSPENSE)
            ledger.transfer(
                debit=suspense,
                credit=payment.provider.account,
                amount=payment.amount,
                key=payment.ledger_key("settle"),
                kind=Transfer.Kind.PAYMENT_SETTLE,
                memo=payment.memo,
            )
            if payment.fee:
                ledger.transfer(
                    debit=suspense,
                    credit=ledger.system_account(Account.Kind.FEES),
                    amount=payment.fee,
                    key=payment.ledger_key("fee"),
                    kind=Transfer.Kind.PAYMENT_FEE,
                    memo=payment.memo,
                )
            transaction.on_commit(lambda: _sms_succeeded(payment.pk))
        elif Payment.objects.filter(pk=payment.pk, status=Payment.Status.FAILED).exists():
            # The provider took a payment we already refunded: reconciliation shows it.
            logger.error("payment %s: the provider confirmed it after a refund", payment.code)
    payment.refresh_from_db()
    return payment


def payment_fail(*, payment: Payment, reason: str = "", code: int | None = None) -> Payment:
    """pending (or needs attention) → failed: suspense → wallet (the total), SMS.

    Guarantees: compare-and-set, so a payment is refunded at most once; the status and the
    refund commit together; the SMS goes out only after the commit.
    """
    _fail(
        payment,
        statuses=[Payment.Status.PENDING, Payment.Status.NEEDS_ATTENTION],
        reason=reason,
        code=code,
    )
    payment.refresh_from_db()
    return payment


def _fail(payment, *, statuses, reason, code, audit=(None, None)) -> bool:
    actor, origin = audit
    with transaction.atomic(durable=True):
        updated = Payment.objects.filter(pk=payment.pk, status__in=statuses).update(
            status=Payment.Status.FAILED,
            settled_at=timezone.now(),
            error=reason[:255],
            result_code=code,
            next_attempt_at=None,
        )
        if updated:
            ledger.transfer(
                debit=ledger.system_account(Account.Kind.SUSPENSE),
                credit=payment.wallet.account,
                amount=payment.total,
                key=payment.ledger_key("refund"),
                kind=Transfer.Kind.PAYMENT_REFUND,
                memo=payment.memo,
                created_by=actor,
            )
            if origin is not None:
                audit_record(
                    actor=actor,
                    action=AuditLog.Action.PAYMENT_REFUND,
                    origin=origin,
                    target=payment,
                    amount=payment.total,
                    details={"reason": reason[:255], "attempts": payment.attempts},
                )
            transaction.on_commit(lambda: _sms_failed(payment.pk))
    return bool(updated)


def payment_sms_text(payment: Payment) -> str:
    """The confirmation SMS, in the current language."""
    values = {
        "provider": payment.provider.name,
        "account": payment.account,
        "amount": format_som(payment.amount),
        "fee": format_som(payment.fee),
        "code": format_code(payment.code),
    }
    if payment.fee:
        return (
            _(
                "Kapchyk: paid %(amount)s to %(provider)s, account %(account)s, fee %(fee)s. "
                "Payment code %(code)s."
            )
            % values
        )
    return (
        _("Kapchyk: paid %(amount)s to %(provider)s, account %(account)s. Payment code %(code)s.")
        % values
    )


def _owner_language(payment: Payment) -> str:
    return payment.wallet.user.language or "ru"


def _sms_succeeded(payment_id: int) -> None:
    payment = Payment.objects.select_related("wallet__user", "provider").get(pk=payment_id)
    with translation.override(_owner_language(payment)):
        send_sms(
            phone=payment.wallet.number,
            text=payment_sms_text(payment),
            secrets=[format_code(payment.code)],
        )


def _sms_failed(payment_id: int) -> None:
    payment = Payment.objects.select_related("wallet__user", "provider").get(pk=payment_id)
    with translation.override(_owner_language(payment)):
        text = _(
            "Kapchyk: the payment %(code)s to %(provider)s did not go through; "
            "%(total)s returned to your wallet."
        ) % {
            "code": format_code(payment.code),
            "provider": payment.provider.name,
            "total": format_som(payment.total),
        }
        send_sms(phone=payment.wallet.number, text=text, secrets=[format_code(payment.code)])


# --- Favourites («Избранное») ---


def _clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError({"name": [_("Enter a name for the template.")]})
    if len(name) > 60:
        raise ValidationError({"name": [_("The name can have at most 60 characters.")]})
    return name


def favourite_create(*, user: User, payment: Payment, name: str) -> Favourite:
    """Save `payment` (the user's own) as a template named `name`."""
    if payment.wallet.user_id != user.pk:
        raise ValidationError(_("This payment is not yours."))
    name = _clean_name(name)
    if Favourite.objects.filter(user=user).count() >= FAVOURITES_PER_USER:
        raise ValidationError(
            _("You can keep at most %(n)s templates. Delete one first.")
            % {"n": FAVOURITES_PER_USER}
        )
    return Favourite.objects.create(
        user=user,
        provider_id=payment.provider_id,
        account=payment.account,
        amount=payment.amount,
        name=name,
    )


def favourite_rename(*, favourite: Favourite, name: str) -> Favourite:
    favourite.name = _clean_name(name)
    Favourite.objects.filter(pk=favourite.pk).update(name=favourite.name)
    return favourite


def favourite_delete(*, favourite: Favourite) -> None:
    Favourite.objects.filter(pk=favourite.pk).delete()
