"""Two workers pick up the same payment, on PostgreSQL: it is settled once.

Threads released together by a Barrier, and two real `db_worker` processes sharing one
queue; the provider is the reference one over HTTP on 127.0.0.1."""

import datetime
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from billing.models import Payment
from billing.tasks import payment_process
from tests.concurrency import run_together
from tests.test_scale_out import _database_url
from wallets.models import SmsMessage, Transfer

from .conftest import AMOUNT, FEE, START, assert_with_provider, balances, create

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


@pytest.fixture
def queued(settings):
    """The database task queue: «Оплатить» enqueues, nothing runs in-process."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def settle_keys(payment):
    return Counter(
        Transfer.objects.filter(idempotency_key__startswith=f"payment:{payment.code}:").values_list(
            "kind", flat=True
        )
    )


@pytest.mark.parametrize("workers", [2, 6])
def test_workers_at_the_same_moment_send_one_attempt(
    queued, workers, wallet, provider, reference, tmp_path
):
    reference.fault("slow", delay=0.3)  # the attempts overlap
    payment = create(wallet, provider)
    assert payment.status == "pending"
    assert DBTaskResult.objects.count() == 1  # enqueued when the hold committed
    statuses = run_together(workers, lambda i: payment_process.call(payment.pk))
    assert sorted(statuses) == ["pending"] * (workers - 1) + ["succeeded"], statuses
    assert len(reference.pays(payment.txn_id)) == 1  # the claim let one worker send
    assert settle_keys(payment) == {"payment_hold": 1, "payment_settle": 1, "payment_fee": 1}
    assert SmsMessage.objects.filter(phone=wallet.number).count() == 1
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


def test_a_worker_past_its_lease_and_the_next_one_both_hear_ok(
    queued, wallet, provider, reference, tmp_path
):
    """Worker A's answer is late (past its lease): worker B sends the same txn_id again.
    Both hear «OK» (B the replay); the payment settles once."""
    provider.timeout = 5
    provider.save()
    reference.fault("slow", times=1, delay=1.5)
    payment = create(wallet, provider)
    first = {}

    def worker_a():
        first["status"] = payment_process.call(payment.pk)
        connection.close()

    a = threading.Thread(target=worker_a)
    a.start()
    deadline = time.monotonic() + 5
    while not reference.pays(payment.txn_id):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    # A's lease runs out while it waits for the answer.
    Payment.objects.filter(pk=payment.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    second = payment_process.call(payment.pk)  # worker B
    a.join(timeout=10)
    assert (second, first["status"]) == ("succeeded", "succeeded")
    payment.refresh_from_db()
    assert payment.attempts == 2
    assert len(reference.pays(payment.txn_id)) == 2
    assert settle_keys(payment) == {"payment_hold": 1, "payment_settle": 1, "payment_fee": 1}
    assert SmsMessage.objects.filter(phone=wallet.number).count() == 1
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


def test_two_db_workers_with_the_payment_queued_twice(
    queued, wallet, provider, reference, tmp_path
):
    """Two `manage.py db_worker` processes, the same payment in the queue twice."""
    reference.fault("slow", delay=0.3)
    payment = create(wallet, provider)
    payment_process.enqueue(payment.pk)  # a second task for the same payment
    assert DBTaskResult.objects.count() == 2
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": _database_url(),
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "SMS_BACKEND": "wallets.sms.OutboxBackend",
        "LOG_LEVEL": "WARNING",
    }
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--batch",
                "--worker-id",
                name,
                "--interval",
                "0.05",
                "--no-startup-delay",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for name in ("worker-1", "worker-2")
    ]
    outputs = [proc.communicate(timeout=60)[0].decode(errors="replace") for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    tasks = list(DBTaskResult.objects.all())
    assert {t.status for t in tasks} == {"SUCCESSFUL"}, [t.traceback for t in tasks]
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("succeeded", 1)
    assert len(reference.pays(payment.txn_id)) == 1
    assert settle_keys(payment) == {"payment_hold": 1, "payment_settle": 1, "payment_fee": 1}
    assert balances(wallet, provider) == (START - AMOUNT - FEE, AMOUNT, 0, FEE)
    assert_with_provider(payment, wallet, provider, reference, tmp_path)
