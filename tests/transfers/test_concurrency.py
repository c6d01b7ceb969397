"""Transfers under real concurrency on PostgreSQL: threads released together by a Barrier."""

import random
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests.concurrency import run_together
from tests.transfers.helpers import person
from transfers import services
from transfers.models import WalletTransfer
from wallets import ledger
from wallets.models import Account, Transfer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def _send(sender, recipient, amount):
    quote = services.transfer_quote(
        wallet=sender, number=recipient.number, amount=amount, check_balance=False
    )
    token = services.transfer_token_new(wallet=sender, quote=quote)
    return services.transfer_create(
        wallet=sender, number=recipient.number, amount=amount, token=token
    )


def _balances(ids):
    return dict(Account.objects.filter(pk__in=ids).values_list("pk", "balance"))


def test_random_transfers_among_ten_wallets_from_sixteen_threads_conserve_the_sum():
    wallets = [person(balance=100_00) for _ in range(10)]
    ids = [w.account_id for w in wallets]
    start_total = sum(_balances(ids).values())
    assert start_total == 1_000_00
    stop = threading.Event()
    reads, bad_reads = [], []

    def reader():
        try:
            while not stop.is_set():
                balances = _balances(ids)  # one statement: one snapshot
                reads.append(1)
                if sum(balances.values()) != start_total or min(balances.values()) < 0:
                    bad_reads.append(balances)
        finally:
            connection.close()

    watcher = threading.Thread(target=reader)
    watcher.start()

    def work(i):
        rng = random.Random(i)
        done = refused = 0
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            sender, recipient = rng.sample(wallets, 2)
            try:
                _send(sender, recipient, rng.randint(1, 30_00))
                done += 1
            except ValidationError as exc:  # a wallet ran dry: refused, nothing moved
                assert exc.error_dict["__all__"][0].code == "insufficient_funds"
                refused += 1
        return done, refused

    try:
        results = run_together(16, work)
    finally:
        stop.set()
        watcher.join(timeout=30)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    done = sum(r[0] for r in results)
    assert done > 0 and len(reads) > 0
    assert bad_reads == []
    balances = _balances(ids)
    assert sum(balances.values()) == start_total
    assert min(balances.values()) >= 0
    assert WalletTransfer.objects.count() == done
    assert Transfer.objects.filter(kind=Transfer.Kind.WALLET_TRANSFER).count() == done
    assert ledger.check() == []


def test_two_wallets_sending_to_each_other_at_once_do_not_deadlock():
    alice, bob = person(balance=1_000_00), person(balance=1_000_00)

    def work(i):
        sender, recipient = (alice, bob) if i % 2 == 0 else (bob, alice)
        return [_send(sender, recipient, 1_00 + i) for _ in range(10)]

    results = run_together(8, work)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert WalletTransfer.objects.count() == 80
    total = ledger.balance_of(alice.account) + ledger.balance_of(bob.account)
    assert total == 2_000_00
    sent_by_alice = sum(1_00 + i for i in range(0, 8, 2)) * 10
    sent_by_bob = sum(1_00 + i for i in range(1, 8, 2)) * 10
    assert ledger.balance_of(alice.account) == 1_000_00 - sent_by_alice + sent_by_bob
    assert ledger.check() == []


@pytest.mark.parametrize("twins", [2, 8])
def test_the_same_token_at_the_same_moment_is_one_transfer(twins):
    alice, bob = person(balance=500_00), person()
    quote = services.transfer_quote(wallet=alice, number=bob.number, amount=100_00)
    token = services.transfer_token_new(wallet=alice, quote=quote)

    def work(_i):
        return services.transfer_create(wallet=alice, number=bob.number, amount=100_00, token=token)

    results = run_together(twins, work)
    assert all(isinstance(r, WalletTransfer) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert WalletTransfer.objects.count() == 1
    assert Transfer.objects.filter(kind=Transfer.Kind.WALLET_TRANSFER).count() == 1
    assert ledger.balance_of(alice.account) == 400_00
    assert ledger.balance_of(bob.account) == 100_00
    assert ledger.check() == []


def test_two_posts_of_the_same_token_through_the_page_are_one_transfer(client):
    """Two browsers' POSTs of one «Перевести» form (the same session) at once."""
    from django.test import Client
    from django.urls import reverse

    alice, bob = person(balance=500_00), person()
    client.force_login(alice.user)
    check = client.post(reverse("transfers:by_number"), {"number": bob.number, "amount": "50"})
    data = {
        "number": bob.number,
        "amount": "50,00",
        "token": check.context["form"].initial["token"],
        "action": "send",
    }
    cookies = client.cookies

    def work(_i):
        browser = Client()
        browser.cookies = cookies
        return browser.post(reverse("transfers:confirm"), data)["Location"]

    results = run_together(2, work)
    assert len(set(results)) == 1, results
    assert WalletTransfer.objects.count() == 1
    assert ledger.balance_of(alice.account) == 450_00
    assert ledger.check() == []
