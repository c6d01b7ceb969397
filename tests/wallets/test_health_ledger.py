"""/healthz/ledger: what the last ledger check (the housekeeping loop's) found, for monitoring.

200 while the books are sound; 503 once a check found a broken invariant (with an ERROR in
the log), when no check ran yet, or when the last one is too old. The result is a database
row, so every web process answers the same.
"""

import datetime
import logging

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.factories import make_wallet
from wallets import ledger
from wallets.health import ledger_check_record
from wallets.models import Account, HealthSignal

pytestmark = pytest.mark.django_db
URL = "/healthz/ledger"


def probe():
    response = Client().get(URL)
    return response.status_code, response.content.decode()


def break_a_balance(account_id: int, by: int = 1_00) -> None:
    """What no code of ours does: change a balance without a transfer."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Account._meta.db_table} SET balance = balance + %s WHERE id = %s",
            [by, account_id],
        )


def test_clean_after_a_check():
    make_wallet(balance=10_00)
    assert ledger_check_record() == []
    status, text = probe()
    assert status == 200
    assert text.startswith("ok (checked at ")


def test_a_broken_invariant_answers_503_until_a_clean_check(caplog):
    wallet = make_wallet(balance=10_00)
    call_command("housekeeping", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert probe()[0] == 200

    break_a_balance(wallet.account_id)
    with caplog.at_level(logging.ERROR, logger="wallets.health"):
        call_command("housekeeping", "--once", stdout=open("/dev/null", "w"))  # noqa: SIM115
    status, text = probe()
    assert status == 503
    assert "found 2 problem(s)" in text  # the wallet's balance, and the sum of all
    assert wallet.account.code not in text  # details are for the log, not the public
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"ledger check: {wallet.account.code}: balance 1100 != credits - debits 1000" in errors
    assert "ledger check failed: 2 problem(s)" in errors
    signal = HealthSignal.objects.get(name="ledger")
    assert not signal.ok
    assert wallet.account.code in signal.detail

    # Repaired (as staff would, with a correcting transfer): the next check clears it.
    break_a_balance(wallet.account_id, by=-1_00)
    assert ledger.check() == []
    call_command("ledger_check", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert probe()[0] == 200


def test_no_check_yet_or_a_stale_one_is_not_healthy(settings):
    status, text = probe()
    assert (status, text) == (503, "ledger not checked yet")
    ledger_check_record(now=timezone.now() - datetime.timedelta(seconds=1000))
    settings.LEDGER_CHECK_MAX_AGE = 900
    status, text = probe()
    assert status == 503
    assert text.startswith("ledger check is stale")
    ledger_check_record()
    assert probe()[0] == 200


def test_the_probe_sets_no_cookie_and_takes_no_post():
    ledger_check_record()
    response = Client(enforce_csrf_checks=True).get(URL)
    assert response.cookies == {}
    assert "no-cache" in response.headers["Cache-Control"]
    assert Client(enforce_csrf_checks=True).post(URL).status_code == 405
