"""The limits under real concurrency on PostgreSQL: payments released together never
exceed a monthly limit, and the period totals stay the sums of the movements."""

from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from billing import services
from billing.models import Payment
from tests.concurrency import run_together
from tests.factories import ProviderFactory, make_wallet
from wallets import ledger
from wallets.models import Account, Level, Transfer

INN = "01234567890123"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def test_twenty_payments_together_never_exceed_the_monthly_limit():
    ledger.system_account(Account.Kind.SUSPENSE)
    ledger.system_account(Account.Kind.FEES)
    provider = ProviderFactory(fee_fixed=1_00)
    each = 100_00 + 1_00  # the amount and the fee: the limit counts both
    level = Level.objects.create(
        order=10, name_ru="Тест", name_ky="Тест", limit_out_month=7 * each + 50_00
    )
    wallet = make_wallet(balance=10_000_00, level=level)
    tokens = [services.payment_token_new(wallet=wallet) for _ in range(20)]

    def pay(i):
        return services.payment_create(
            wallet=wallet, provider=provider, account=INN, amount=100_00, token=tokens[i]
        )

    results = run_together(20, pay)
    assert Counter(type(r).__name__ for r in results) == {"Payment": 7, "ValidationError": 13}
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert {e.code for r in refused for e in r.error_dict["__all__"]} == {"limit_exceeded"}
    assert {e.params["left"] for r in refused for e in r.error_dict["__all__"]} == {50_00}
    assert Payment.objects.filter(status="succeeded").count() == 7
    account = Account.objects.get(pk=wallet.account_id)
    holds = Transfer.objects.filter(debit=account, kind="payment_hold").aggregate(s=Sum("amount"))
    assert account.out_month == account.out_day == holds["s"] == 7 * each
    assert account.balance == 10_000_00 - 7 * each
    assert ledger.check() == []
    call_command("ledger_check")


def test_payments_and_refunds_together_keep_the_totals_exact():
    ledger.system_account(Account.Kind.SUSPENSE)
    level = Level.objects.create(order=10, name_ru="Тест", name_ky="Тест", limit_out_day=1_000_00)
    wallet = make_wallet(balance=10_000_00, level=level)
    suspense = ledger.system_account(Account.Kind.SUSPENSE)
    holds = [
        ledger.transfer(debit=wallet.account, credit=suspense, amount=100_00, key=f"h{i}")
        for i in range(5)
    ]

    def work(i):
        if i < 5:  # refund a hold
            hold = holds[i]
            return ledger.transfer(
                debit=suspense,
                credit=wallet.account,
                amount=hold.amount,
                key=f"r{i}",
                returns=hold.created_at,
            )
        return ledger.transfer(debit=wallet.account, credit=suspense, amount=100_00, key=f"p{i}")

    results = run_together(20, work)
    moved = [r for r in results if isinstance(r, Transfer)]
    limited = [r for r in results if isinstance(r, ledger.LimitExceeded)]
    assert len(moved) + len(limited) == 20, results
    account = Account.objects.get(pk=wallet.account_id)
    debits = Transfer.objects.filter(debit=account).aggregate(s=Sum("amount"))["s"]
    refunds = Transfer.objects.filter(credit=account, idempotency_key__startswith="r")
    assert account.out_day == debits - refunds.aggregate(s=Sum("amount"))["s"]
    assert account.out_day <= 1_000_00
    assert ledger.check() == []
