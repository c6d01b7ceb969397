import pytest
from django.db import IntegrityError, connection, transaction

from tests.factories import make_wallet, system
from wallets import ledger
from wallets.models import Account, LedgerEntry, Transfer

pytestmark = pytest.mark.django_db


def test_transfer_moves_money_and_keeps_invariants():
    a = make_wallet(balance=100_00)
    b = make_wallet()
    t = ledger.transfer(debit=a.account, credit=b.account, amount=30_50, key="t1")
    a.account.refresh_from_db()
    b.account.refresh_from_db()
    assert (a.account.balance, b.account.balance) == (69_50, 30_50)
    assert (t.debit_id, t.credit_id, t.amount) == (a.account_id, b.account_id, 30_50)
    assert ledger.total() == 0
    assert ledger.check() == []


def test_same_key_moves_once_and_returns_first_transfer():
    a = make_wallet(balance=100_00)
    b = make_wallet()
    first = ledger.transfer(debit=a.account, credit=b.account, amount=10_00, key="k")
    again = ledger.transfer(debit=a.account, credit=b.account, amount=10_00, key="k")
    assert again.pk == first.pk
    a.account.refresh_from_db()
    assert a.account.balance == 90_00
    assert Transfer.objects.filter(idempotency_key="k").count() == 1


def test_same_key_for_other_movement_is_refused():
    a = make_wallet(balance=100_00)
    b = make_wallet()
    ledger.transfer(debit=a.account, credit=b.account, amount=10_00, key="k")
    with pytest.raises(ledger.IdempotencyConflict):
        ledger.transfer(debit=a.account, credit=b.account, amount=20_00, key="k")
    a.account.refresh_from_db()
    assert a.account.balance == 90_00


def test_insufficient_funds_moves_nothing():
    a = make_wallet(balance=5_00)
    b = make_wallet()
    with pytest.raises(ledger.InsufficientFunds):
        ledger.transfer(debit=a.account, credit=b.account, amount=5_01, key="x")
    a.account.refresh_from_db()
    b.account.refresh_from_db()
    assert (a.account.balance, b.account.balance) == (5_00, 0)
    assert not Transfer.objects.filter(idempotency_key="x").exists()


@pytest.mark.parametrize("amount", [0, -1, 1.5, True])
def test_amount_must_be_positive_integer(amount):
    a = make_wallet(balance=5_00)
    b = make_wallet()
    with pytest.raises(ValueError):
        ledger.transfer(debit=a.account, credit=b.account, amount=amount, key="bad")


def test_hot_accounts_take_entries_and_fold_keeps_balances():
    a = make_wallet(balance=100_00)
    suspense = system(Account.Kind.SUSPENSE)
    fees = system(Account.Kind.FEES)
    ledger.transfer(debit=a.account, credit=suspense, amount=40_00, key="h1")
    ledger.transfer(debit=suspense, credit=fees, amount=15_00, key="h2")
    suspense.refresh_from_db()
    assert suspense.balance == 0  # not folded yet
    assert ledger.balance_of(suspense) == 25_00
    assert LedgerEntry.objects.filter(account=suspense).count() == 2
    # 4 entries: the cash-in desk (1), suspense (2), fees (1).
    assert ledger.fold_entries() == 4
    suspense.refresh_from_db()
    fees.refresh_from_db()
    assert (suspense.balance, fees.balance) == (25_00, 15_00)
    assert system(Account.Kind.CASHIN).balance == -100_00
    assert not LedgerEntry.objects.exists()
    assert ledger.check() == []


def test_check_reports_a_broken_balance():
    a = make_wallet(balance=10_00)
    Account.objects.filter(pk=a.account_id).update(balance=11_00)
    problems = ledger.check()
    assert [p.account for p in problems] == [a.account.code, "*"]


class TestDatabaseRefusesBrokenInvariants:
    def _raw(self, sql, params):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, params)

    def test_negative_amount(self):
        a, b = make_wallet(balance=1_00), make_wallet()
        self._raw(
            f"INSERT INTO {Transfer._meta.db_table} (debit_id, credit_id, amount, kind,"
            " idempotency_key, memo, created_at) VALUES (%s, %s, -5, 'other', 'neg', '', now())"
            if connection.vendor == "postgresql"
            else f"INSERT INTO {Transfer._meta.db_table} (debit_id, credit_id, amount, kind,"
            " idempotency_key, memo, created_at) VALUES (%s, %s, -5, 'other', 'neg', '', '2026-01-01')",
            [a.account_id, b.account_id],
        )

    def test_negative_wallet_balance(self):
        a = make_wallet(balance=1_00)
        self._raw(f"UPDATE {Account._meta.db_table} SET balance = -1 WHERE id = %s", [a.account_id])

    def test_duplicate_key(self):
        a, b = make_wallet(balance=10_00), make_wallet()
        ledger.transfer(debit=a.account, credit=b.account, amount=1_00, key="dup")
        self._raw(
            f"INSERT INTO {Transfer._meta.db_table} (debit_id, credit_id, amount, kind,"
            " idempotency_key, memo, created_at) VALUES (%s, %s, 5, 'other', 'dup', '', %s)",
            [a.account_id, b.account_id, "2026-01-01 00:00:00+00"],
        )


def test_large_sums_fold_whole_with_statements_prepared():
    """The bench's cash-in desk had handed out 18 800 000 000 000 tyiyn when the fold added
    its entries to its balance as `F("balance") + sum`: bound by the server as a 32-bit
    integer, the sum arrived as -928 145 408 and the ledger no longer summed to 0. The same
    statement, prepared (run more than 5 times), must add the whole sum, on every database."""
    cashin = system(Account.Kind.CASHIN)
    wallets = [make_wallet() for _ in range(3)]
    for round_ in range(8):  # the fold's UPDATE is prepared after 5 runs on PostgreSQL
        for n, wallet in enumerate(wallets):
            ledger.transfer(debit=cashin, credit=wallet.account, amount=1, key=f"small{round_}-{n}")
        ledger.fold_entries()
    big = 10**11  # a bench wallet's cash-in: 1 000 000 000 som
    for n, wallet in enumerate(wallets * 63):
        ledger.transfer(debit=cashin, credit=wallet.account, amount=big, key=f"big{n}")
    assert ledger.fold_entries() == 189
    cashin.refresh_from_db()
    assert cashin.balance == -(24 + 189 * big) == -18_900_000_000_024
    assert ledger.total() == 0
    assert ledger.check() == []
