"""Real concurrency on PostgreSQL: threads released together by a Barrier."""

from collections import Counter

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from billing import services
from billing.models import Payment
from tests.concurrency import run_together
from tests.factories import ProviderFactory, make_wallet
from wallets import ledger
from wallets.models import Account, Transfer

INN = "01234567890123"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


@pytest.fixture
def setup():
    ledger.system_account(Account.Kind.SUSPENSE)
    ledger.system_account(Account.Kind.FEES)


@pytest.mark.parametrize("twins", [2, 8])
def test_same_token_at_the_same_moment_is_one_payment(setup, twins):
    provider = ProviderFactory(fee_fixed=1_00)
    wallet = make_wallet(balance=1_000_00)
    token = services.payment_token_new(wallet=wallet)

    def pay(_i):
        return services.payment_create(
            wallet=wallet, provider=provider, account=INN, amount=100_00, token=token
        )

    results = run_together(twins, pay)
    assert all(isinstance(r, Payment) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Payment.objects.count() == 1
    assert Transfer.objects.filter(kind="payment_hold").count() == 1
    assert ledger.balance_of(wallet.account) == 899_00
    assert ledger.balance_of(provider.account) == 100_00
    assert ledger.check() == []


def test_fifty_payments_against_one_wallet_never_overdraw(setup):
    provider = ProviderFactory()
    wallet = make_wallet(balance=30 * 10_00)
    tokens = [services.payment_token_new(wallet=wallet) for _ in range(50)]

    def pay(i):
        return services.payment_create(
            wallet=wallet, provider=provider, account=INN, amount=10_00, token=tokens[i]
        )

    results = run_together(50, pay)
    outcome = Counter(type(r).__name__ for r in results)
    assert outcome == {"Payment": 30, "ValidationError": 20}, results
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert {e.code for r in refused for e in r.error_dict["__all__"]} == {"insufficient_funds"}
    assert Payment.objects.filter(status="succeeded").count() == 30
    assert Payment.objects.count() == 30
    assert ledger.balance_of(wallet.account) == 0
    assert ledger.balance_of(provider.account) == 300_00
    assert ledger.balance_of(ledger.system_account(Account.Kind.SUSPENSE)) == 0
    assert ledger.check() == []
    assert ledger.total() == 0
    call_command("ledger_check")  # exits non-zero on a problem
    ledger.fold_entries()
    assert ledger.check() == []
    provider.account.refresh_from_db()
    assert provider.account.balance == 300_00


def test_concurrent_payments_from_many_wallets_to_one_provider(setup):
    provider = ProviderFactory(fee_percent="1.00")
    wallets = [make_wallet(balance=101_00) for _ in range(20)]

    def pay(i):
        return services.payment_create(
            wallet=wallets[i],
            provider=provider,
            account=INN,
            amount=100_00,
            token=services.payment_token_new(wallet=wallets[i]),
        )

    results = run_together(20, pay)
    assert all(isinstance(r, Payment) and r.status == "succeeded" for r in results), results
    assert ledger.balance_of(provider.account) == 2_000_00
    assert ledger.balance_of(ledger.system_account(Account.Kind.FEES)) == 20_00
    assert ledger.check() == []
