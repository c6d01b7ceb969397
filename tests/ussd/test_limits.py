"""*900# meets the same limits as the web, worded short."""

import pytest

from billing.models import Payment
from tests.ussd.conftest import ussd_wallet
from wallets import ledger
from wallets.models import Account, Level, Wallet

pytestmark = pytest.mark.django_db

PIN = "4826"
INN = "01234567890123"


@pytest.fixture
def small():
    return Level.objects.create(
        order=10, name_ru="Тест", name_ky="Сыноо", limit_operation=1_000_00, limit_out_day=1_500_00
    )


def at_level(wallet, level):
    Wallet.objects.filter(pk=wallet.pk).update(level=level)
    Account.objects.filter(pk=wallet.account_id).update(
        limit_operation=level.limit_operation, limit_out_day=level.limit_out_day
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", "CON Лимит вашего уровня: одна операция не более 1 000,00 сом. Лимиты: kapchyk.kg"),
        ("ky", "CON Деңгээлиңиздин лимити: бир операция 1 000,00 сом ашпайт. Лимиттер: kapchyk.kg"),
    ],
)
def test_the_amount_step_refuses_over_a_limit(phone, catalogue, small, language, expected):
    wallet = ussd_wallet(balance=5_000_00, pin=PIN, language=language)
    at_level(wallet, small)
    handset = phone(wallet.number)
    handset.dial()
    handset.send("3", "3", "14", "14", INN)
    screen = handset.send("1001")
    assert screen.startswith(expected + "\n"), screen
    assert len(screen) <= 182
    assert not Payment.objects.exists()


def test_the_pin_step_refuses_what_was_used_up_meanwhile(phone, catalogue, small):
    wallet = ussd_wallet(balance=5_000_00, pin=PIN)
    at_level(wallet, small)
    handset = phone(wallet.number)
    handset.dial()
    handset.send("3", "3", "14", "14", INN, "1000")
    suspense = ledger.system_account(Account.Kind.SUSPENSE)
    ledger.transfer(debit=wallet.account, credit=suspense, amount=1_000_00, key="elsewhere")
    done = handset.send(PIN)
    assert done == (
        "END Платеж не выполнен. Превышен дневной лимит. Сегодня можно потратить ещё 500,00 сом."
    )
    assert not Payment.objects.exists()
