"""Settlement through the reference provider over real HTTP, under every fault: the money
ends with the provider (succeeded, once) or back in the wallet (failed), never both, never
neither; ledger_check is clean and the provider's registry reconciles with ours."""

import socket
import urllib.request
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction

from billing import services
from billing.models import Payment
from providers.gateways import OsmpGateway, Status, txn_date
from providers.reference import ReferenceProvider
from wallets.audit import Origin

from .conftest import (
    AMOUNT,
    FEE,
    START,
    assert_back_in_wallet,
    assert_with_provider,
    balances,
    create,
    failed_sms,
    local_day,
    next_attempt,
    paid_sms,
    reconcile_code,
    refunded_sms,
    sms_texts,
)

pytestmark = pytest.mark.django_db

STAFF = Origin(channel="admin", ip="127.0.0.1")
BISHKEK = ZoneInfo("Asia/Bishkek")


def test_ok_at_once(wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks):
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    assert (payment.status, payment.attempts, payment.result_code) == ("succeeded", 1, 0)
    pays = reference.pays(payment.txn_id)
    assert len(pays) == 1
    assert pays[0]["account"] == "0012345" and pays[0]["sum"] == "150.00"
    assert pays[0]["txn_date"] == payment.created_at.astimezone(BISHKEK).strftime("%Y%m%d%H%M%S")
    assert sms_texts(wallet) == [paid_sms(payment)]
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


def test_hold_commits_before_the_call_and_the_task_runs_after(
    wallet, provider, reference, django_capture_on_commit_callbacks
):
    # Without the commit's callbacks (a crash right after the hold), the payment is held,
    # pending and unsent; nothing reached the provider.
    payment = create(wallet, provider)
    assert (payment.status, payment.attempts) == ("pending", 0)
    assert balances(wallet, provider) == (START - AMOUNT - FEE, 0, AMOUNT + FEE, 0)
    assert reference.pays() == []


def test_crash_between_hold_and_submit_is_swept(
    wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    payment = create(wallet, provider)  # the task never ran
    with django_capture_on_commit_callbacks(execute=True), open(tmp_path / "sweep.txt", "w") as out:
        call_command("payments_retry", stdout=out)
    assert (tmp_path / "sweep.txt").read_text() == "1 attempted: 1 succeeded\n"
    assert sms_texts(wallet) == [paid_sms(Payment.objects.get(pk=payment.pk))]
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


def test_slow_answer_past_the_timeout_then_the_replay(
    wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    reference.fault("slow", times=1, delay=1.6)  # processed, but answered after 1.6 s > 1 s
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    assert (payment.status, payment.attempts) == ("pending", 1)
    assert payment.error == "no answer in 1 s"
    assert balances(wallet, provider) == (START - AMOUNT - FEE, 0, AMOUNT + FEE, 0)
    assert len(reference.payments()) == 1  # the provider has it already
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert (payment.status, payment.attempts) == ("succeeded", 2)
    assert len(reference.pays(payment.txn_id)) == 2  # the same txn_id both times
    assert {p["txn_id"] for p in reference.pays()} == {str(payment.txn_id)}
    assert sms_texts(wallet) == [paid_sms(payment)]
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


def test_slow_forever_needs_attention_then_staff_retry(
    wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    reference.fault("slow", delay=1.3)
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert (payment.status, payment.attempts, payment.next_attempt_at) == (
        "needs_attention",
        3,
        None,
    )
    # Still held, nothing sent to anyone; the provider has it: reconciliation says so.
    assert balances(wallet, provider) == (START - AMOUNT - FEE, 0, AMOUNT + FEE, 0)
    assert sms_texts(wallet) == []
    assert reconcile_code(provider, reference, local_day(payment), tmp_path) == 1
    assert "extra       txn_id" in (tmp_path / "out.txt").read_text()
    assert Payment.objects.due().count() == 0  # not retried by itself any more
    # Staff retry once the provider answers in time: its first answer, replayed.
    reference.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.payment_retry(payment=payment, actor=None, origin=STAFF)
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("succeeded", 4)
    assert len(reference.payments()) == 1
    assert sms_texts(wallet) == [paid_sms(payment)]
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


def test_connection_refused_then_the_provider_is_back(
    wallet, provider, tmp_path, django_capture_on_commit_callbacks
):
    db = str(tmp_path / "reference.sqlite3")
    server = ReferenceProvider(db=db).start()
    port = server.port
    provider.endpoint_url = server.url
    provider.save()
    server.close()  # down: connection refused
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    assert (payment.status, payment.attempts) == ("pending", 1)
    assert payment.error.startswith("connection failed")
    server = ReferenceProvider(port=port, db=db).start()  # back, with its own records
    try:
        payment = next_attempt(payment, django_capture_on_commit_callbacks)
        assert (payment.status, payment.attempts) == ("succeeded", 2)
        assert_with_provider(payment, wallet, provider, server, tmp_path)
    finally:
        server.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_forever_needs_attention_then_staff_refund(
    wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    provider.endpoint_url = f"http://127.0.0.1:{_closed_port()}/osmp"
    provider.save()
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert payment.status == "needs_attention"
    assert payment.error.startswith("connection failed")
    # Staff make sure the provider has nothing (its registry), then refund.
    assert reference.payments() == []
    with django_capture_on_commit_callbacks(execute=True):
        assert services.payment_refund(payment=payment, origin=STAFF)
        assert not services.payment_refund(payment=payment, origin=STAFF)  # once
    assert sms_texts(wallet) == [refunded_sms(payment)]
    assert_back_in_wallet(payment, wallet, provider, reference, tmp_path)


@pytest.mark.parametrize("fault", ["http500", "garbage", "close"])
def test_bad_answer_once_then_ok(
    fault, wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    reference.fault(fault, times=1)
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    assert (payment.status, payment.attempts) == ("pending", 1)
    expected = {
        "http500": "HTTP 500",
        "garbage": "unreadable answer: not XML",
        "close": "connection failed",
    }[fault]
    assert payment.error.startswith(expected), payment.error
    assert reference.payments() == []  # the faulty answer processed nothing
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert (payment.status, payment.attempts) == ("succeeded", 2)
    assert sms_texts(wallet) == [paid_sms(payment)]
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


def test_result_1_then_0(wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks):
    payment = create(
        wallet, provider, account="0011111", capture=django_capture_on_commit_callbacks
    )  # the reference answers 1 to this account's first pay
    assert (payment.status, payment.result_code, payment.error) == (
        "pending",
        1,
        "result 1: temporary error (temporary error, try again)",
    )
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert (payment.status, payment.attempts, payment.result_code) == ("succeeded", 2, 0)
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


def test_backoff_doubles(wallet, provider, reference, settings, django_capture_on_commit_callbacks):
    settings.PAYMENT_RETRY_DELAY = 10
    reference.fault("result", code=1)
    provider.retry_budget = 4
    provider.save()
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    gaps = []
    for _ in range(2):
        gaps.append((payment.next_attempt_at - payment.last_attempt_at).total_seconds())
        payment = next_attempt(payment, django_capture_on_commit_callbacks)
    gaps.append((payment.next_attempt_at - payment.last_attempt_at).total_seconds())
    assert [round(g) for g in gaps] == [10, 20, 40]
    assert services.retry_delay(20).total_seconds() == settings.PAYMENT_RETRY_MAX_DELAY


def test_result_90_forever_needs_attention_then_refund(
    wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    payment = create(
        wallet, provider, account="0090090", capture=django_capture_on_commit_callbacks
    )
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert (payment.status, payment.attempts, payment.result_code) == ("needs_attention", 3, 90)
    assert payment.error == "result 90: payment not finished"
    assert len(reference.pays(payment.txn_id)) == 3
    assert reference.payments() == []  # never finished at the provider
    assert reconcile_code(provider, reference, local_day(payment), tmp_path) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.payment_refund(payment=payment, origin=STAFF)
    assert sms_texts(wallet) == [refunded_sms(payment)]
    assert_back_in_wallet(payment, wallet, provider, reference, tmp_path)


def test_replayed_pay_after_success_credits_once(
    wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    assert payment.status == "succeeded"
    # The same pay again (a worker that did not hear the first answer, a staff retry):
    again = OsmpGateway().pay(payment)
    assert (again.status, again.reference) == (Status.SUCCEEDED, payment.gateway_txn)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.payment_attempt(payment=payment).status == "succeeded"
        assert not services.payment_retry(payment=payment, origin=STAFF)
        services.payment_succeed(payment=payment, reference=again.reference)
        services.payment_fail(payment=payment, reason="late")
    assert len(reference.pays(payment.txn_id)) == 2
    assert sms_texts(wallet) == [paid_sms(payment)]
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


@pytest.mark.parametrize(
    ("account", "setup", "code"),
    [
        ("0054321", None, 79),  # not active
        ("0077777", None, 7),  # forbidden by the provider
        ("0099999", None, 5),  # not found
        ("0012345", ("min_sum", 200_00), 241),
        ("0012345", ("max_sum", 100_00), 242),
    ],
)
def test_final_error_at_pay_refunds(
    account, setup, code, wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    if setup:
        setattr(reference, *setup)
    payment = create(wallet, provider, account=account, capture=django_capture_on_commit_callbacks)
    assert (payment.status, payment.attempts, payment.result_code) == ("failed", 1, code)
    assert payment.error.startswith(f"result {code}: ")
    assert sms_texts(wallet) == [failed_sms(payment)]
    assert_back_in_wallet(payment, wallet, provider, reference, tmp_path)


def test_a_replay_with_another_sum_needs_attention(
    wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    reference.fault("http500", times=1)
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    # Someone else's pay with our txn_id reached the provider first, for 10.00.
    when = txn_date(payment.created_at)
    query = f"command=pay&txn_id={payment.txn_id}&txn_date={when}&account=0012345&sum=10.00"
    urllib.request.urlopen(f"{reference.url}?{query}", timeout=5).read()
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert (payment.status, payment.attempts) == ("needs_attention", 2)
    assert payment.error == "the provider confirmed the sum 10.00, ours is 150.00"
    assert balances(wallet, provider) == (START - AMOUNT - FEE, 0, AMOUNT + FEE, 0)
    assert sms_texts(wallet) == []
    assert reconcile_code(provider, reference, local_day(payment), tmp_path) == 1


def test_basic_auth(wallet, provider, tmp_path, django_capture_on_commit_callbacks):
    server = ReferenceProvider(login="kapchyk", password="s3cret").start()
    try:
        provider.endpoint_url = server.url
        provider.login, provider.password = "kapchyk", "wrong"
        provider.save()
        payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
        assert (payment.status, payment.error) == ("pending", "HTTP 401")
        provider.password = "s3cret"
        provider.save()
        payment = next_attempt(payment, django_capture_on_commit_callbacks)
        assert payment.status == "succeeded"
        assert_with_provider(payment, wallet, provider, server, tmp_path)
    finally:
        server.close()


def test_never_called_inside_a_transaction(wallet, provider, reference):
    payment = create(wallet, provider)
    refused = pytest.raises(RuntimeError, match="never called inside a database transaction")
    with refused, transaction.atomic():
        OsmpGateway().pay(payment)
    assert reference.requests == []


def test_a_gateway_bug_keeps_the_payment_retried(
    wallet, provider, reference, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(self, payment):
        raise KeyError("bug")

    monkeypatch.setattr(OsmpGateway, "pay", broken)
    payment = create(wallet, provider, capture=django_capture_on_commit_callbacks)
    assert (payment.status, payment.error) == ("pending", "gateway error: KeyError")
    monkeypatch.undo()
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert payment.status == "succeeded"
