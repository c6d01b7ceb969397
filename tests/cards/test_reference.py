"""The reference acquirer itself, over HTTP through our gateway: idempotent on our keys,
the bank side's statement, and `manage.py reference_acquirer`."""

import subprocess
import sys
import time
import urllib.request

import pytest

from cards.gateways import CardDetails, HttpAcquirer, Status

from .conftest import CVV, ELCART, statement


def details(number=ELCART):
    return CardDetails(number=number, exp_month=12, exp_year=2030, cvv=CVV, name="x")


def test_every_call_is_idempotent_on_our_key(acquirer):
    gateway = HttpAcquirer(acquirer.url, timeout=2)
    first = gateway.hold(details(), 3_47, "card:1:hold")
    again = gateway.hold(details(), 5_00, "card:1:hold")
    assert first.ok and again == first and first.token.startswith("tok_")
    assert acquirer.balance(ELCART) == 50_000_00 - 3_47
    assert "3,47 KGS</td><td>held" in statement(acquirer, ELCART)
    assert any("3,47" in text for text in acquirer.sms(ELCART))
    assert gateway.void("card:1:hold").ok and gateway.void("card:1:hold").ok
    assert acquirer.balance(ELCART) == 50_000_00
    charge = gateway.charge(first.token, 100_00, "topup:1")
    assert charge.ok and gateway.charge(first.token, 100_00, "topup:1") == charge
    assert acquirer.balance(ELCART) == 50_000_00 - 100_00
    assert gateway.status("topup:1").ok and gateway.status("topup:1").amount == 100_00
    assert gateway.status("topup:2").status == Status.NOT_FOUND
    assert gateway.refund("topup:1").ok and gateway.refund("topup:1").ok
    assert acquirer.balance(ELCART) == 50_000_00


def test_a_void_before_the_hold_arrives_stops_it(acquirer):
    gateway = HttpAcquirer(acquirer.url, timeout=2)
    assert gateway.void("card:9:hold").ok
    assert gateway.hold(details(), 2_00, "card:9:hold").status == Status.DECLINED
    assert acquirer.balance(ELCART) == 50_000_00


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        ("http500", "unknown"),
        ("garbage", "unknown"),
        ("drop", "unknown"),
        ("slow", "unknown"),
        ("decline", "declined"),
    ],
)
def test_fault_modes_map_to_outcomes(acquirer, mode, status):
    acquirer.fault(mode, times=1, delay=1.0)
    assert HttpAcquirer(acquirer.url, timeout=0.5).hold(details(), 1_00, "k").status == status


def test_the_command_serves(tmp_path):
    port = 9990
    process = subprocess.Popen(
        [sys.executable, "manage.py", "reference_acquirer", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/bank/", timeout=2) as r:
                    assert "Mini-statement" in r.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the reference acquirer did not answer")
    finally:
        process.terminate()
        process.wait(timeout=10)
