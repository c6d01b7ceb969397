"""The daily registry (`manage.py registry`) and reconciliation with a provider's registry
(`manage.py reconcile`): missing, extra and mismatched payments, exit status 1 on any."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from billing.models import Payment
from billing.registry import registry_rows
from providers import gateways
from tests.factories import ProviderFactory, make_payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def internal():
    return ProviderFactory(slug="sochi", account_regex=r"\d{5,20}")


def moment(payment):
    return timezone.localtime(payment.created_at).strftime("%Y-%m-%d %H:%M:%S")


def row(payment, *, account=None, amount=None, code=None):
    return (
        f"{payment.pk},{moment(payment)},{account or payment.account},"
        f"{amount or f'{payment.amount // 100}.{payment.amount % 100:02d}'},"
        f"{payment.code if code is None else code}"
    )


def run(*args):
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), ""


def test_registry_command(internal, tmp_path):
    a = make_payment(provider=internal, account="0012345", amount=100_00)
    b = make_payment(provider=internal, account="0023456", amount=12_34)
    make_payment(amount=5_00)  # another provider's
    day = timezone.localtime(a.created_at).date()
    code, out, _ = run("registry", "sochi", str(day))
    assert code == 0
    assert out == (f"txn_id,datetime,account,amount,payment_code\n{row(a)}\n{row(b)}\n")
    assert run("registry", "sochi", str(day), "--out", str(tmp_path / "r.csv"))[0] == 0
    assert (tmp_path / "r.csv").read_text() == out
    assert [r.txn_id for r in registry_rows(provider=internal, day=day)] == [str(a.pk), str(b.pk)]
    assert run("registry", "nobody", str(day))[2] == "no provider 'nobody'"
    assert run("registry", "sochi", "24.11.2026")[2] == "'24.11.2026' is not a date like 2026-01-31"


def test_a_matching_registry_exits_0(internal, tmp_path):
    payments = [
        make_payment(provider=internal, account="0012345", amount=n * 100) for n in (1, 2, 3)
    ]
    theirs = tmp_path / "theirs.csv"
    # A provider's registry may leave our payment code empty.
    theirs.write_text(
        "txn_id,datetime,account,amount,payment_code\n"
        + "".join(row(p, code="") + "\n" for p in payments)
    )
    code, out, _ = run("reconcile", "sochi", str(theirs))
    day = timezone.localtime(payments[0].created_at).date()
    assert (code, out) == (0, f"sochi, {day}: 3 matched, 0 missing, 0 extra, 0 mismatched\n")


class NoAnswerYet(gateways.InternalGateway):
    def pay(self, payment):
        return gateways.Outcome(gateways.Status.RETRY, "not yet")


def test_missing_extra_and_mismatched_exit_1(
    internal, tmp_path, django_capture_on_commit_callbacks, monkeypatch
):
    ok = make_payment(provider=internal, account="0012345", amount=10_00)
    missing = make_payment(provider=internal, account="0012345", amount=11_00)
    wrong_amount = make_payment(provider=internal, account="0012345", amount=12_00)
    wrong_account = make_payment(provider=internal, account="0012345", amount=13_00)
    # Not settled here (a pending payment), yet the provider lists it.
    monkeypatch.setitem(gateways.GATEWAYS, "internal", NoAnswerYet)
    unsettled = make_payment(provider=internal, account="0012345", amount=14_00)
    assert unsettled.status == Payment.Status.PENDING
    monkeypatch.undo()
    theirs = tmp_path / "theirs.csv"
    theirs.write_text(
        "\ufefftxn_id,datetime,account,amount,payment_code\n"
        f"{row(ok)}\n"
        f"{row(wrong_amount, amount='1.20')}\n"
        f"{row(wrong_account, account='0099999')}\n"
        f"{row(unsettled)}\n"
        f"999999999,{moment(ok)},0012345,5.00,\n"
    )
    code, out, error = run("reconcile", "sochi", str(theirs))
    assert (code, error) == (1, f"5 difference(s) with {theirs}")
    lines = out.splitlines()
    assert lines[0].endswith("1 matched, 1 missing, 2 extra, 2 mismatched")
    assert lines[1].startswith(f"missing     txn_id {missing.pk}  ")
    assert lines[1].endswith(
        f"0012345  11.00  code {missing.display_code}: succeeded here, not in the provider's registry"
    )
    assert lines[2].endswith(": in the provider's registry, here pending")
    assert lines[2].startswith(f"extra       txn_id {unsettled.pk}  ")
    assert lines[3].startswith("extra       txn_id 999999999  ")
    assert lines[3].endswith("here unknown")
    assert lines[4] == f"mismatched  txn_id {wrong_amount.pk}: amount: ours 12.00, theirs 1.20"
    assert (
        lines[5] == f"mismatched  txn_id {wrong_account.pk}: account: ours 0012345, theirs 0099999"
    )


def test_an_empty_registry_with_a_date(internal, tmp_path):
    payment = make_payment(provider=internal, account="0012345")
    day = timezone.localtime(payment.created_at).date()
    theirs = tmp_path / "empty.csv"
    theirs.write_text("txn_id,datetime,account,amount,payment_code\n")
    assert run("reconcile", "sochi", str(theirs))[0] == 0  # no day to compare: nothing to say
    code, out, _ = run("reconcile", "sochi", str(theirs), "--date", str(day))
    assert code == 1 and "1 missing" in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty (no header)"),
        (
            "id,when,acc,sum\n",
            "line 1: the header must be txn_id,datetime,account,amount,payment_code",
        ),
        (
            "txn_id,datetime,account,amount\nabc,2026-01-01 10:00:00,1,1.00\n",
            "line 2: txn_id 'abc' is not a number",
        ),
        (
            "txn_id,datetime,account,amount\n1,01.01.2026,1,1.00\n",
            "line 2: datetime '01.01.2026' is not YYYY-MM-DD HH:MM:SS",
        ),
        (
            "txn_id,datetime,account,amount\n1,2026-01-01 10:00:00,1,1.5x\n",
            "line 2: amount '1.5x' is not som like 150.00",
        ),
        (
            "txn_id,datetime,account,amount\n1,2026-01-01 10:00:00\n",
            "line 2: 2 columns, 4 or 5 expected",
        ),
    ],
)
def test_an_unreadable_registry(internal, tmp_path, content, message):
    theirs = tmp_path / "bad.csv"
    theirs.write_text(content)
    code, _out, error = run("reconcile", "sochi", str(theirs))
    assert (code, error) == (1, f"{theirs}: {message}")


def test_a_file_that_is_not_there(internal, tmp_path):
    code, _out, error = run("reconcile", "sochi", str(tmp_path / "none.csv"))
    assert (code, error) == (1, f"cannot read {tmp_path / 'none.csv'}: No such file or directory")


def test_only_the_providers_own_payments(internal, tmp_path):
    other = make_payment(amount=5_00)  # to another provider
    theirs = tmp_path / "theirs.csv"
    theirs.write_text(f"txn_id,datetime,account,amount\n{row(other)}\n")
    code, out, _ = run("reconcile", "sochi", str(theirs))
    assert code == 1 and "here unknown" in out
