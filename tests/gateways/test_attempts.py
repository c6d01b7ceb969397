"""Every request to the provider is an attempt row; a staff refund asks the provider first
(issue: a refund of a payment the provider did take doubled the money)."""

import pytest

from billing import services
from billing.models import Payment
from tests.gateways.conftest import (
    START,
    assert_with_provider,
    balances,
    create,
    movements,
    next_attempt,
    paid_sms,
    sms_texts,
)
from wallets import ledger
from wallets.audit import Origin
from wallets.models import AuditLog

pytestmark = pytest.mark.django_db

STAFF = Origin(channel="admin", ip="127.0.0.1")


def rows(payment):
    return list(
        payment.attempt_rows.order_by("number").values_list(
            "number", "kind", "outcome", "result_code", "message"
        )
    )


def test_each_attempt_is_a_row(
    wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    reference.fault("slow", times=1, delay=1.6)
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert rows(payment) == [
        (1, "pay", "retry", None, "no answer in 1 s"),
        (2, "pay", "succeeded", 0, "result 0: OK"),
    ]
    first, second = payment.attempt_rows.order_by("number")
    assert first.duration_ms >= 900 and second.sent_at > first.sent_at
    assert second.reference == payment.gateway_txn
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


@pytest.fixture
def flagged_but_taken(wallet, provider, reference, django_capture_on_commit_callbacks):
    """The provider recorded the payment each time, but answered too late: flagged."""
    reference.fault("slow", delay=1.3)
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert payment.status == "needs_attention"
    assert len(reference.payments()) == 1
    reference.clear_faults()
    return payment


def test_a_refund_of_a_payment_the_provider_took_is_refused(
    flagged_but_taken, wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    payment = flagged_but_taken
    with django_capture_on_commit_callbacks(execute=True):
        refunded = services.payment_refund(payment=payment, actor=None, origin=STAFF)
    assert refunded is False
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert rows(payment)[-1] == (4, "refund_check", "succeeded", 0, "result 0: OK")
    assert "payment_refund" not in [m[0] for m in movements(payment)]
    assert not AuditLog.objects.filter(action="payment_refund").exists()
    assert sms_texts(wallet) == [paid_sms(payment)]
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


def test_a_refund_the_provider_cannot_be_asked_about_is_staffs_call(
    wallet, provider, reference, django_capture_on_commit_callbacks
):
    # Staff checked the provider's registry (the confirmation page says so); the question
    # that found no answer is on record beside the refund.
    reference.fault("close")
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert payment.status == "needs_attention"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.payment_refund(payment=payment, actor=None, origin=STAFF) is True
    payment.refresh_from_db()
    assert payment.status == "failed"
    number, kind, outcome, code, _message = rows(payment)[-1]
    assert (number, kind, outcome, code) == (4, "refund_check", "retry", None)
    assert balances(wallet, provider) == (START, 0, 0, 0)
    assert ledger.check() == []


def test_a_refund_after_a_final_refusal_goes_through(
    wallet, provider, reference, django_capture_on_commit_callbacks
):
    reference.fault("slow", delay=1.3)
    payment = create(
        wallet, provider, account="0077777", capture=django_capture_on_commit_callbacks
    )
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert payment.status == "needs_attention"
    reference.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.payment_refund(payment=payment, actor=None, origin=STAFF) is True
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert rows(payment)[-1][:4] == (4, "refund_check", "failed", 7)
    assert balances(wallet, provider) == (START, 0, 0, 0)
    assert ledger.check() == []
