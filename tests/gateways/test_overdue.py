"""A payment pending past its due time by more than PAYMENT_OVERDUE_ATTENTION goes to staff
(billing.overdue), whatever kept it there; nothing else is touched and no money moves."""

import datetime
import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import overdue
from billing.models import Payment
from billing.overdue import payments_overdue_flag
from wallets.models import Transfer

from .conftest import AMOUNT, FEE, START, balances, create
from .test_admin import CHANGELIST, member

pytestmark = pytest.mark.django_db


def pending(wallet, provider, *, due_ago: float, attempts: int = 0, **kw):
    """A pending payment whose next attempt was due `due_ago` seconds ago (its task never ran:
    the worker was down, a lease ran out, ...)."""
    payment = create(wallet, provider, **kw)
    assert payment.status == Payment.Status.PENDING
    Payment.objects.filter(pk=payment.pk).update(
        attempts=attempts, next_attempt_at=timezone.now() - datetime.timedelta(seconds=due_ago)
    )
    payment.refresh_from_db()
    return payment


def test_overdue_pending_payments_need_attention(wallet, provider, settings, caplog):
    settings.PAYMENT_OVERDUE_ATTENTION = 300
    stuck = pending(wallet, provider, due_ago=301, attempts=1, amount=10_00)
    late = pending(wallet, provider, due_ago=120, amount=20_00)  # within the grace: left
    with caplog.at_level(logging.WARNING, logger="billing.overdue"):
        moved = payments_overdue_flag()
    assert [p.pk for p in moved] == [stuck.pk]
    stuck.refresh_from_db()
    late.refresh_from_db()
    assert (stuck.status, stuck.next_attempt_at, stuck.attempts) == ("needs_attention", None, 1)
    assert stuck.error == "overdue: still pending 300 s after its due time"
    assert late.status == "pending"
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert f"payment {stuck.code} needs attention" in caplog.records[0].getMessage()
    # No money moved: both holds still in suspense.
    assert balances(wallet, provider) == (START - 10_00 - 20_00 - 2 * FEE, 0, 30_00 + 2 * FEE, 0)
    assert (
        Transfer.objects.exclude(kind=Transfer.Kind.PAYMENT_HOLD)
        .exclude(kind=Transfer.Kind.CASHIN)
        .count()
        == 0
    )
    # Twice is once.
    assert payments_overdue_flag() == []

    # Staff see it in the admin's attention queue.
    page = member("support").get(reverse(CHANGELIST), {"queue": "attention"})
    assert [p.pk for p in page.context["cl"].result_list] == [stuck.pk]
    assert "Требуют проверки" in page.content.decode()


def test_the_grace_is_a_setting(wallet, provider, settings):
    settings.PAYMENT_OVERDUE_ATTENTION = 60
    stuck = pending(wallet, provider, due_ago=61, amount=AMOUNT)
    assert [p.pk for p in payments_overdue_flag()] == [stuck.pk]


def test_claimed_or_settled_meanwhile_is_left_alone(wallet, provider, settings, monkeypatch):
    """Compare-and-set: what was read as overdue but has moved on since is not flagged."""
    settings.PAYMENT_OVERDUE_ATTENTION = 300
    claimed = pending(wallet, provider, due_ago=400, amount=10_00)
    settled = pending(wallet, provider, due_ago=400, amount=20_00)
    now = timezone.now()

    real_filter = Payment.objects.filter

    def meanwhile():
        # A worker claims one attempt (a new count and due time); the other one succeeds.
        real_filter(pk=claimed.pk).update(attempts=1, next_attempt_at=now)
        real_filter(pk=settled.pk).update(
            status=Payment.Status.SUCCEEDED, next_attempt_at=None, settled_at=now
        )

    original_atomic = overdue.transaction.atomic
    calls = []

    def atomic(*args, **kwargs):  # the first compare-and-set: the others act just before
        if not calls:
            meanwhile()
        calls.append(1)
        return original_atomic(*args, **kwargs)

    monkeypatch.setattr(overdue.transaction, "atomic", atomic)
    assert payments_overdue_flag(now=now) == []
    monkeypatch.undo()
    claimed.refresh_from_db()
    settled.refresh_from_db()
    assert (claimed.status, claimed.attempts) == ("pending", 1)
    assert settled.status == "succeeded"
