"""Payments stuck past their due time go to staff, whatever the reason.

A pending payment's next attempt is due at `next_attempt_at`; the task worker and the
retry sweep act on it within seconds. One still pending PAYMENT_OVERDUE_ATTENTION seconds
after that (the sweep was down, a worker hung on the provider, the database was away, a
bug) is no longer left to the machines: it moves to «needs attention», where the admin's
«Требуют проверки» queue shows it (staff retry it or refund it after asking the provider).
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Payment
from .services import LIFECYCLE

logger = logging.getLogger(__name__)


def payments_overdue_flag(
    *, now: datetime.datetime | None = None, grace: float | None = None, limit: int = 500
) -> list[Payment]:
    """Move pending payments overdue by more than `grace` seconds (default
    PAYMENT_OVERDUE_ATTENTION) to needs attention; return those moved.

    Guarantees: compare-and-set on the status, the attempt count and the due time read, so
    a payment a worker claimed meanwhile (a new attempt, a new due time) or settled is left
    alone; each move is its own short transaction and logged as a WARNING. Moves no money:
    the hold stays in suspense until staff (or a late answer of the provider) settle it.
    """
    now = now or timezone.now()
    grace = settings.PAYMENT_OVERDUE_ATTENTION if grace is None else grace
    cutoff = now - datetime.timedelta(seconds=grace)
    overdue = (
        Payment.objects.pending()
        .filter(
            Q(next_attempt_at__lt=cutoff) | Q(next_attempt_at__isnull=True, created_at__lt=cutoff)
        )
        .order_by("next_attempt_at", "id")
        .values_list("pk", "code", "attempts", "next_attempt_at")[:limit]
    )
    moved = []
    for pk, code, attempts, due in list(overdue):
        with transaction.atomic(durable=True):
            updated = LIFECYCLE.move(
                pk,
                to=Payment.Status.NEEDS_ATTENTION,
                sources=[Payment.Status.PENDING],
                where=Q(attempts=attempts, next_attempt_at=due),
                next_attempt_at=None,
                error=f"overdue: still pending {grace:g} s after its due time",
            )
        if updated:
            logger.warning(
                "payment %s needs attention: pending past its due time %s by more than %g s "
                "(%s attempts)",
                code,
                due.isoformat() if due else "(none)",
                grace,
                attempts,
            )
            moved.append(pk)
    return list(Payment.objects.filter(pk__in=moved).order_by("id"))
