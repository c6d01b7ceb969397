"""Real concurrency on PostgreSQL: payers released together by a Barrier."""

from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from qr import services
from qr.models import QrPayment
from tests.concurrency import run_together
from tests.factories import make_wallet
from wallets import ledger, operations
from wallets.models import Transfer

from .payments import merchant

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def _token(wallet, link, amount):
    quote = services.qr_quote(wallet=wallet, scan=services.scan_resolve(link), amount=amount)
    return services.qr_token_new(wallet=wallet, quote=quote)


def test_two_payers_of_one_dynamic_code_at_once_make_one_payment():
    cashier = make_wallet()
    shop = merchant(cashier=cashier)
    dynamic = services.dynamic_code_create(merchant=shop, cashier=cashier, amount=75_00)
    link = services.dynamic_link(dynamic)
    payers = [make_wallet(balance=100_00) for _ in range(2)]
    tokens = [_token(w, link, None) for w in payers]

    def pay(i):
        return services.qr_payment_create(wallet=payers[i], link=link, amount=None, token=tokens[i])

    results = run_together(2, pay)
    outcome = Counter(type(r).__name__ for r in results)
    assert outcome == {"QrPayment": 1, "ValidationError": 1}, results
    refused = next(r for r in results if isinstance(r, ValidationError))
    assert operations.codes_of(refused) == {"already_paid"}
    assert QrPayment.objects.count() == 1
    assert sorted(ledger.balance_of(w.account) for w in payers) == [25_00, 100_00]
    assert ledger.balance_of(shop.account) == 75_00
    assert ledger.check() == []


def test_thirty_payers_of_one_static_code_at_once():
    shop = merchant()
    link = services.merchant_link(shop)
    payers = [make_wallet(balance=100_00) for _ in range(30)]
    amounts = [1_00 + i for i in range(30)]
    tokens = [_token(w, link, a) for w, a in zip(payers, amounts, strict=True)]

    def pay(i):
        return services.qr_payment_create(
            wallet=payers[i], link=link, amount=amounts[i], token=tokens[i]
        )

    results = run_together(30, pay)
    assert all(isinstance(r, QrPayment) for r in results), results
    assert QrPayment.objects.count() == 30
    assert Transfer.objects.filter(credit=shop.account).count() == 30
    assert ledger.balance_of(shop.account) == sum(amounts)
    for wallet, amount in zip(payers, amounts, strict=True):
        assert ledger.balance_of(wallet.account) == 100_00 - amount
    assert ledger.check() == []
    assert ledger.total() == 0
    call_command("ledger_check")
    ledger.fold_entries()
    shop.account.refresh_from_db()
    assert shop.account.balance == sum(amounts)
    assert ledger.check() == []
