"""The ledger under real concurrency (PostgreSQL): threads released together by a barrier."""

import random
import threading

import pytest
from django.db import connection, transaction

from tests.concurrency import run_together
from tests.factories import make_wallet, system
from wallets import ledger
from wallets.models import Account, Transfer


def assert_all_ok(results):
    assert [r for r in results if isinstance(r, Exception)] == []


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"
    ),
]


def test_twenty_threads_overdraw_one_wallet():
    balance, amount = 100_00, 7_00  # 20 x 7 som = 140 som asked, 100 som held
    wallet = make_wallet(balance=balance)
    fees = system(Account.Kind.FEES)
    outcomes = []

    def debit(index):
        try:
            with transaction.atomic(durable=True):
                ledger.transfer(debit=wallet.account, credit=fees, amount=amount, key=f"d{index}")
            outcomes.append("ok")
        except ledger.InsufficientFunds:
            outcomes.append("refused")

    assert_all_ok(run_together(20, debit))
    wallet.account.refresh_from_db()
    assert outcomes.count("ok") == balance // amount == 14
    assert outcomes.count("refused") == 6
    assert wallet.account.balance == balance - 14 * amount == 2_00
    assert Transfer.objects.filter(debit=wallet.account).count() == 14
    assert ledger.check() == []
    ledger.fold_entries()
    assert ledger.check() == []


def test_same_key_from_many_threads_moves_once():
    wallet = make_wallet(balance=50_00)
    fees = system(Account.Kind.FEES)
    results = []

    def twin(index):
        with transaction.atomic(durable=True):
            results.append(
                ledger.transfer(debit=wallet.account, credit=fees, amount=10_00, key="once").pk
            )

    assert_all_ok(run_together(8, twin))
    wallet.account.refresh_from_db()
    assert len(set(results)) == 1 and len(results) == 8
    assert wallet.account.balance == 40_00
    assert ledger.check() == []


def test_bank_random_transfers_conserve_money():
    wallets = [make_wallet(balance=1_000_00) for _ in range(10)]
    accounts = [w.account for w in wallets]
    stop = threading.Event()
    reads = []

    def mover(index):
        rng = random.Random(index)
        for n in range(60):
            src, dst = rng.sample(accounts, 2)
            try:
                with transaction.atomic(durable=True):
                    ledger.transfer(
                        debit=src, credit=dst, amount=rng.randint(1, 400_00), key=f"b{index}-{n}"
                    )
            except ledger.InsufficientFunds:
                pass

    def reader():
        try:
            while not stop.is_set():
                # One statement, one snapshot: the sum and the smallest wallet balance.
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT SUM(balance), MIN(balance) FROM {Account._meta.db_table}"
                        " WHERE kind = 'wallet'"
                    )
                    reads.append(cursor.fetchone())
        finally:
            connection.close()

    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        assert_all_ok(run_together(8, mover))
    finally:
        stop.set()
        watcher.join(timeout=30)
    assert len(reads) > 10
    assert all(total == 10 * 1_000_00 and low >= 0 for total, low in reads), reads[:5]
    assert sum(ledger.balance_of(a) for a in accounts) == 10 * 1_000_00
    assert Transfer.objects.filter(idempotency_key__startswith="b").count() > 100
    assert ledger.check() == []


def test_fold_runs_safely_beside_payments():
    wallet = make_wallet(balance=500_00)
    fees = system(Account.Kind.FEES)

    def work(index):
        if index == 0:
            for _ in range(20):
                ledger.fold_entries()
        else:
            for n in range(25):
                with transaction.atomic(durable=True):
                    ledger.transfer(
                        debit=wallet.account, credit=fees, amount=1_00, key=f"f{index}-{n}"
                    )

    assert_all_ok(run_together(4, work))
    ledger.fold_entries()
    fees.refresh_from_db()
    assert fees.balance == 75 * 1_00
    assert ledger.total() == 0
    assert ledger.check() == []
