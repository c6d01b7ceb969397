"""Settlement of a payment through its provider's gateway.

An OSMP provider's payment is handed to the background task billing.tasks.payment_process
in the transaction that holds its money. One run of the task is one pay request: it claims
the attempt (compare-and-set on status and attempt count, with a lease), calls the provider
outside any transaction, and records the request and answer as a PaymentAttempt row with
the outcome — succeeded, failed (refunded), or pending again with the next attempt after
an exponential backoff; past the provider's retry budget the payment needs attention
(staff: payment_retry / payment_refund). The next attempt is enqueued with run_after where
the task backend can defer; payments_sweep attempts every due payment too (backends that
cannot defer, crashes, expired leases).

Statuses move only along billing.models.TRANSITIONS (LIFECYCLE.move: compare-and-set).
"""

import datetime
import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from providers.gateways import Outcome, Status, gateway_for
from providers.models import Provider
from wallets import ledger, operations
from wallets.audit import Origin, audit_record
from wallets.models import AuditLog, User, Wallet

from ..models import TRANSITIONS, Payment, PaymentAttempt
from .intake import refund_leg, settlement_legs
from .texts import tell_failed, tell_refunded, tell_succeeded

logger = logging.getLogger(__name__)

LIFECYCLE = operations.Lifecycle(Payment, TRANSITIONS)
PENDING, SUCCEEDED, FAILED, NEEDS_ATTENTION = (
    Payment.Status.PENDING,
    Payment.Status.SUCCEEDED,
    Payment.Status.FAILED,
    Payment.Status.NEEDS_ATTENTION,
)


def enqueue_attempt(payment_id: int, run_after=None) -> None:
    """The task that sends a payment's next attempt, with the current transaction."""
    from ..tasks import payment_process

    operations.enqueue(payment_process, payment_id, run_after=run_after)


def retry_delay(attempt: int) -> datetime.timedelta:
    """The pause after the `attempt`-th pay request failed temporarily: doubling from
    PAYMENT_RETRY_DELAY seconds, at most PAYMENT_RETRY_MAX_DELAY."""
    base = settings.PAYMENT_RETRY_DELAY
    seconds = min(base * 2 ** max(attempt - 1, 0), settings.PAYMENT_RETRY_MAX_DELAY)
    return datetime.timedelta(seconds=seconds)


def _lease(provider: Provider) -> datetime.timedelta:
    return datetime.timedelta(seconds=float(provider.timeout) + settings.PAYMENT_LEASE)


def payment_attempt(*, payment: Payment, now: datetime.datetime | None = None) -> Payment:
    """Send one pay request for a pending payment whose attempt is due; record the answer.

    Guarantees: the attempt is claimed first by compare-and-set (status pending, the attempt
    count we read, due now), so two workers never send the same attempt; the claim holds a
    lease (the provider's timeout + PAYMENT_LEASE seconds), after which a crashed worker's
    attempt is due again. The provider is called outside any transaction, always with the
    payment's own txn_id. The request and its answer become a PaymentAttempt row, and the
    answer is applied by compare-and-set: succeeded (settled once, however many workers
    heard «OK»), failed (refunded once), or pending again with the next attempt after
    retry_delay() — or needs attention past the retry budget or on an answer that
    contradicts ours. A payment that is not pending, or not due, is returned as it is.
    """
    now = now or timezone.now()
    payment = Payment.objects.select_related("provider__account", "wallet__user").get(pk=payment.pk)
    if payment.status != PENDING:
        return payment
    provider = payment.provider
    attempt = payment.attempts + 1
    claimed = LIFECYCLE.claim(
        payment.pk,
        status=PENDING,
        attempts=payment.attempts,
        now=now,
        lease=_lease(provider),
        last_attempt_at=now,
    )
    if not claimed:
        payment.refresh_from_db()
        return payment
    payment.attempts, payment.last_attempt_at = attempt, now
    outcome, row = _ask(payment, attempt, PaymentAttempt.Kind.PAY)
    return _record(payment, attempt, outcome, row, now)


def _ask(payment: Payment, number: int, kind: str) -> tuple[Outcome, PaymentAttempt]:
    """One pay request (outside any transaction) and its attempt row, not yet saved."""
    sent_at, started = timezone.now(), time.monotonic()
    try:
        outcome = gateway_for(payment.provider).pay(payment)
    except Exception as exc:  # a bug must not leave the payment claimed and unseen
        logger.exception("gateway error on payment %s", payment.code)
        outcome = Outcome(Status.RETRY, f"gateway error: {exc.__class__.__name__}")
    logger.info(
        "payment %s attempt %s (%s) at %s: %s %s",
        payment.code,
        number,
        kind,
        payment.provider.slug,
        outcome.status,
        outcome.message,
    )
    row = PaymentAttempt(
        payment=payment,
        number=number,
        kind=kind,
        sent_at=sent_at,
        duration_ms=int((time.monotonic() - started) * 1000),
        outcome=outcome.status,
        result_code=outcome.code,
        message=outcome.message[:255],
        reference=(outcome.reference or "")[:64],
    )
    return outcome, row


def _record(payment, attempt, outcome, row, now) -> Payment:
    if outcome.status == Status.SUCCEEDED:
        return payment_succeed(
            payment=payment, reference=outcome.reference, code=outcome.code, attempt=row
        )
    if outcome.status == Status.FAILED:
        return payment_fail(payment=payment, reason=outcome.message, code=outcome.code, attempt=row)
    return _postpone(payment, attempt, outcome, row, now)


def _postpone(payment: Payment, attempt: int, outcome: Outcome, row, now) -> Payment:
    """pending → pending (next attempt later) or → needs attention; only if no other worker
    claimed a later attempt meanwhile."""
    later = max(now, timezone.now()) + retry_delay(attempt)
    give_up = outcome.status == Status.UNSURE or attempt >= payment.provider.retry_budget
    fields = {"error": outcome.message[:255], "result_code": outcome.code}
    with transaction.atomic(durable=True):
        row.save()
        mine = {"sources": [PENDING], "where": Q(attempts=attempt)}
        if give_up:
            moved = LIFECYCLE.move(
                payment.pk,
                to=NEEDS_ATTENTION,
                next_attempt_at=None,
                gateway_txn=outcome.reference[:64],
                **mine,
                **fields,
            )
            if moved:
                logger.warning(
                    "payment %s needs attention after %s attempts: %s",
                    payment.code,
                    attempt,
                    outcome.message,
                )
        elif LIFECYCLE.move(payment.pk, to=PENDING, next_attempt_at=later, **mine, **fields):
            enqueue_attempt(payment.pk, later)
    payment.refresh_from_db()
    return payment


def payments_sweep(*, now: datetime.datetime | None = None, limit: int = 500) -> list[Payment]:
    """Attempt every pending payment that is due (oldest first): the retry sweep.

    Safe alongside task workers and other sweeps: each attempt is claimed first.
    """
    now = now or timezone.now()
    return [
        payment_attempt(payment=Payment(pk=pk), now=now)
        for pk in Payment.objects.due(now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    ]


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
        updated = LIFECYCLE.move(
            payment.pk, to=PENDING, sources=[NEEDS_ATTENTION, PENDING], next_attempt_at=now
        )
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
            enqueue_attempt(payment.pk)
    return updated


def payment_refund(
    *, payment: Payment, actor: User | None = None, origin: Origin | None = None, reason=""
) -> bool:
    """Staff: refund a payment that needs attention — after asking the provider.

    Guarantees: only from needs attention (never while an attempt may be in flight). The
    provider is asked first (the same pay request, same txn_id: a provider answers a
    repeated pay with its first answer), outside any transaction, and its answer is an
    attempt row: when it says it took the payment, the payment is settled instead and
    nothing is refunded. Any other answer, or none, leaves the refund to staff (who checked
    the provider's registry). Compare-and-set, so refunded at most once; the status, the
    refund (suspense → wallet), the attempt and the audit log row commit together; the SMS
    is queued with them. Returns False (nothing refunded) in every other case.
    """
    payment = Payment.objects.select_related("provider__account", "wallet__user").get(pk=payment.pk)
    if payment.status != NEEDS_ATTENTION:
        return False
    row, code = None, payment.result_code
    if gateway_for(payment.provider).asynchronous:
        outcome, row = _ask(payment, payment.attempts + 1, PaymentAttempt.Kind.REFUND_CHECK)
        with transaction.atomic(durable=True):
            claimed = Payment.objects.filter(
                pk=payment.pk, status=NEEDS_ATTENTION, attempts=payment.attempts
            ).update(attempts=payment.attempts + 1)
        if not claimed:  # someone else acted on it meanwhile
            return False
        payment.attempts += 1
        if outcome.status == Status.SUCCEEDED:
            logger.warning("payment %s: the provider took it; settled, not refunded", payment.code)
            payment_succeed(
                payment=payment, reference=outcome.reference, code=outcome.code, attempt=row
            )
            return False
        code = outcome.code if outcome.code is not None else code
    return _fail(
        payment,
        sources=[NEEDS_ATTENTION],
        reason=reason or "refunded by staff",
        code=code,
        audit=(actor, origin),
        attempt=row,
        tell=tell_refunded,
    )


def payment_succeed(
    *,
    payment: Payment,
    reference: str = "",
    code: int | None = None,
    attempt: PaymentAttempt | None = None,
) -> Payment:
    """pending (or needs attention) → succeeded: suspense → provider (amount) and
    suspense → fees (fee), SMS.

    Guarantees: compare-and-set on the status, so a payment settles at most once; the
    status, both transfers, the attempt row and the SMS commit together.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        if attempt is not None:
            attempt.save()
        updated = LIFECYCLE.move(
            payment.pk,
            to=SUCCEEDED,
            settled_at=now,
            error="",
            next_attempt_at=None,
            gateway_txn=(reference or "")[:64],
            result_code=code,
        )
        if updated:
            ledger.move(settlement_legs(payment))
            # The payer's history shows it succeeded now.
            ledger.history_changed(Wallet.objects.filter(pk=payment.wallet_id).values("account"))
            tell_succeeded(payment)
        elif Payment.objects.filter(pk=payment.pk, status=FAILED).exists():
            # The provider took a payment we already refunded: reconciliation shows it.
            logger.error("payment %s: the provider confirmed it after a refund", payment.code)
    payment.refresh_from_db()
    return payment


def payment_fail(
    *,
    payment: Payment,
    reason: str = "",
    code: int | None = None,
    attempt: PaymentAttempt | None = None,
) -> Payment:
    """pending (or needs attention) → failed: suspense → wallet (the total), SMS.

    Guarantees: compare-and-set, so a payment is refunded at most once; the status, the
    refund, the attempt row and the SMS commit together.
    """
    _fail(payment, sources=[PENDING, NEEDS_ATTENTION], reason=reason, code=code, attempt=attempt)
    payment.refresh_from_db()
    return payment


def _fail(
    payment, *, sources, reason, code, audit=(None, None), attempt=None, tell=tell_failed
) -> bool:
    actor, origin = audit
    with transaction.atomic(durable=True):
        if attempt is not None:
            attempt.save()
        updated = LIFECYCLE.move(
            payment.pk,
            to=FAILED,
            sources=sources,
            settled_at=timezone.now(),
            error=reason[:255],
            result_code=code,
            next_attempt_at=None,
        )
        if updated:
            ledger.move([refund_leg(payment)], created_by=actor)
            if origin is not None:
                audit_record(
                    actor=actor,
                    action=AuditLog.Action.PAYMENT_REFUND,
                    origin=origin,
                    target=payment,
                    amount=payment.total,
                    details={"reason": reason[:255], "attempts": payment.attempts},
                )
            tell(payment)
    return updated
