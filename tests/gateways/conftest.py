"""Fixtures for the gateway tests: the reference provider as a real HTTP server on
127.0.0.1 (a free port), an OSMP provider of ours pointing at it, and helpers that pay and
check where the money is."""

import base64
import datetime
import urllib.request
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from billing import services
from billing.models import Payment
from providers.reference import ReferenceProvider
from tests.factories import ProviderFactory, make_wallet
from wallets import ledger
from wallets.models import Account, SmsMessage, Transfer

HOLDER = "ОсОО «Ала-Тоо Софт»"
ACCOUNT = "0012345"
START = 1_000_00  # the wallet's balance before each payment, tyiyn
AMOUNT = 150_00
FEE = 2_00


@pytest.fixture
def reference():
    server = ReferenceProvider().start()
    yield server
    server.close()


@pytest.fixture
def provider(db, reference):
    """An OSMP provider of ours at the reference server: 1 s timeout, 3 attempts."""
    return ProviderFactory(
        slug="hoster-test",
        name_ru="Хостер",
        name_ky="Хостер",
        gateway="osmp",
        endpoint_url=reference.url,
        timeout=Decimal("1.0"),
        retry_budget=3,
        account_regex=r"\d{5,20}",
        account_label_ru="Код оплаты",
        account_hint_ru="Код оплаты из личного кабинета",
        fee_fixed=FEE,
    )


@pytest.fixture
def wallet(db):
    return make_wallet(balance=START)


def suspense():
    return ledger.system_account(Account.Kind.SUSPENSE)


def balances(wallet, provider):
    """(wallet, provider, suspense, fees) in tyiyn."""
    return (
        ledger.balance_of(wallet.account),
        ledger.balance_of(provider.account),
        ledger.balance_of(suspense()),
        ledger.balance_of(ledger.system_account(Account.Kind.FEES)),
    )


def movements(payment):
    return list(
        Transfer.objects.filter(idempotency_key__startswith=f"payment:{payment.code}:")
        .order_by("id")
        .values_list("kind", "debit__code", "credit__code", "amount")
    )


def sms_texts(wallet):
    return list(
        SmsMessage.objects.filter(phone=wallet.number).order_by("id").values_list("text", flat=True)
    )


def create(wallet, provider, *, account=ACCOUNT, amount=AMOUNT, capture=None, holder=""):
    """«Оплатить»: payment_create; the commit's callbacks (the task) run when `capture`."""
    token = services.payment_token_new(wallet=wallet)

    def make():
        return services.payment_create(
            wallet=wallet,
            provider=provider,
            account=account,
            amount=amount,
            token=token,
            holder=holder,
        )

    if capture is None:
        payment = make()
    else:
        with capture(execute=True):
            payment = make()
    payment.refresh_from_db()
    return payment


def next_attempt(payment, capture):
    """The retry sweep at the payment's next attempt time (its backoff over)."""
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING
    assert payment.next_attempt_at is not None
    with capture(execute=True):
        services.payments_sweep(now=payment.next_attempt_at)
    payment.refresh_from_db()
    return payment


def local_day(payment) -> datetime.date:
    return timezone.localtime(payment.created_at).date()


def reconcile_code(provider, reference, day, tmp_path) -> int:
    """Fetch the reference provider's registry over HTTP and run `reconcile`; its exit code."""
    request = urllib.request.Request(f"{reference.base_url}/registry?date={day}")
    if reference.login:
        token = base64.b64encode(f"{reference.login}:{reference.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=5) as r:
        text = r.read().decode()
    path = tmp_path / f"theirs-{day}.csv"
    path.write_text(text)
    with open(tmp_path / "out.txt", "w") as out:
        try:
            call_command("reconcile", provider.slug, str(path), "--date", str(day), stdout=out)
        except CommandError as exc:
            return exc.returncode
    return 0


def assert_with_provider(payment, wallet, provider, reference, tmp_path):
    """Succeeded: the money is with the provider once, nowhere else; books clean."""
    payment.refresh_from_db()
    assert payment.status == Payment.Status.SUCCEEDED
    assert balances(wallet, provider) == (START - AMOUNT - FEE, AMOUNT, 0, FEE)
    assert [m[0] for m in movements(payment)] == ["payment_hold", "payment_settle", "payment_fee"]
    received = [p for p in reference.payments() if p["txn_id"] == str(payment.txn_id)]
    assert len(received) == 1
    assert (received[0]["account"], received[0]["amount"]) == (payment.account, AMOUNT)
    assert payment.gateway_txn == str(received[0]["prv_txn"])
    assert ledger.check() == []
    assert reconcile_code(provider, reference, local_day(payment), tmp_path) == 0


def assert_back_in_wallet(payment, wallet, provider, reference, tmp_path):
    """Failed: the money is back in the wallet; the provider has nothing; books clean."""
    payment.refresh_from_db()
    assert payment.status == Payment.Status.FAILED
    assert balances(wallet, provider) == (START, 0, 0, 0)
    assert [m[0] for m in movements(payment)] == ["payment_hold", "payment_refund"]
    assert not [p for p in reference.payments() if p["txn_id"] == str(payment.txn_id)]
    assert ledger.check() == []
    assert reconcile_code(provider, reference, local_day(payment), tmp_path) == 0


def paid_sms(payment):
    return (
        f"Капчык: оплачено 150,00 сом, Хостер, счёт {payment.account}, комиссия 2,00 сом. "
        f"Код платежа {payment.display_code}."
    )


def failed_sms(payment):
    return (
        f"Капчык: платёж {payment.display_code}, Хостер не прошёл; 152,00 сом возвращены в кошелёк."
    )


def refunded_sms(payment):
    """Staff refunded it (payment_refund): its own words, not «did not go through»."""
    return (
        f"Капчык: платёж {payment.display_code}, Хостер отменён; 152,00 сом возвращены в кошелёк."
    )
