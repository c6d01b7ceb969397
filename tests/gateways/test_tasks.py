"""The production task backend (django-tasks-db): «Оплатить» enqueues the payment's task when
the hold commits; `db_worker` runs it; a retry is enqueued for its time (run_after)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from billing.models import Payment

from .conftest import assert_with_provider, create, paid_sms, sms_texts

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def work():
    call_command(
        "db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO(), stderr=io.StringIO()
    )


def test_db_worker_settles_and_retries_at_run_after(queued, wallet, provider, reference, tmp_path):
    reference.fault("http500", times=1)
    payment = create(wallet, provider)
    assert (payment.status, payment.attempts) == ("pending", 0)
    task = DBTaskResult.objects.get()
    assert (task.task_path, task.args_kwargs) == (
        "billing.tasks.payment_process",
        {"args": [payment.pk], "kwargs": {}},
    )
    assert reference.pays() == []  # nothing sent from the request

    work()
    payment.refresh_from_db()
    assert (payment.status, payment.attempts, payment.error) == ("pending", 1, "HTTP 500")
    retry = DBTaskResult.objects.exclude(pk=task.pk).get()
    assert retry.run_after == payment.next_attempt_at
    assert retry.status == "READY"

    work()  # not due yet: the worker leaves it
    assert DBTaskResult.objects.get(pk=retry.pk).status == "READY"

    # Its time comes.
    past = timezone.now() - datetime.timedelta(seconds=1)
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=past)
    Payment.objects.filter(pk=payment.pk).update(next_attempt_at=past)
    work()
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("succeeded", 2)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert sms_texts(wallet) == [paid_sms(payment)]
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


def test_immediate_backend_runs_the_attempt_in_the_request(wallet, provider, reference, tmp_path):
    payment = create(wallet, provider)  # the commit runs the task at once, in-process
    assert (payment.status, payment.attempts) == ("succeeded", 1)
    assert not DBTaskResult.objects.exists()
    assert_with_provider(payment, wallet, provider, reference, tmp_path)


def test_immediate_backend_leaves_a_retry_to_the_sweep(wallet, provider, reference, tmp_path):
    reference.fault("result", code=1, times=1)
    payment = create(wallet, provider)
    assert (payment.status, payment.attempts) == ("pending", 1)
    assert not Payment.objects.due().exists()  # its backoff is not over
    Payment.objects.filter(pk=payment.pk).update(next_attempt_at=None)
    out = io.StringIO()
    call_command("payments_retry", stdout=out)
    assert out.getvalue() == "1 attempted: 1 succeeded\n"
    assert_with_provider(payment, wallet, provider, reference, tmp_path)
