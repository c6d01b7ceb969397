"""*900# with an OSMP provider: the provider checks the account after the amount, and the
payment it takes settles in the background, with the SMS."""

from decimal import Decimal

import pytest

from billing.models import Payment
from providers import demo
from providers.models import Category, Provider
from tests.ussd.conftest import SECRET, Phone, sms_to, ussd_wallet
from wallets.models import Account

pytestmark = pytest.mark.django_db

PIN = "4826"


@pytest.fixture(autouse=True)
def _ussd_settings(settings):
    settings.USSD_SHARED_SECRET = SECRET
    settings.USSD_ALLOWED_IPS = []
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def hoster(db, demo_data, reference):
    """The demo's Hoster.kg (USSD 14 → 16), attached to the reference provider."""
    demo.load(Category, Provider, Account)
    Provider.objects.filter(slug="hoster").update(
        gateway="osmp", endpoint_url=reference.url, timeout=Decimal("1")
    )
    return Provider.objects.get(slug="hoster")


@pytest.fixture
def handset(client, django_capture_on_commit_callbacks):
    wallet = ussd_wallet(balance=5_000_00, pin=PIN)
    phone = Phone(client, wallet.number, on_commit=django_capture_on_commit_callbacks)
    phone.wallet = wallet
    return phone


def test_pay_hoster_by_ussd(hoster, handset, reference):
    handset.dial()
    handset.send("3", "3", "14", "16")
    assert handset.send("0012345") == "CON Введите сумму для оплаты (сом):"
    confirm = handset.send("150")
    assert confirm.startswith("CON Проверьте:\nHoster.kg\nСчет: 0012345\nСумма: 150,00 сом")
    done = handset.send(PIN)
    payment = Payment.objects.get()
    assert done == (
        f"END Платеж принят. Код платежа: {payment.display_code}. SMS с кодом придет на Ваш номер."
    )
    assert (payment.status, payment.channel) == ("succeeded", "ussd")
    assert [r["command"] for r in reference.requests] == ["check", "pay"]
    assert sms_to(handset.wallet.number)[-1].startswith("Капчык: оплачено 150,00 сом, Hoster.kg")


def test_an_account_the_provider_does_not_know(hoster, handset, reference):
    handset.dial()
    handset.send("3", "3", "14", "16", "0099999")
    screen = handset.send("150")
    assert screen.startswith("CON Неверный счет.")
    assert not Payment.objects.exists()


def test_the_provider_down(hoster, handset):
    Provider.objects.filter(pk=hoster.pk).update(endpoint_url="http://127.0.0.1:9/osmp")
    handset.dial()
    handset.send("3", "3", "14", "16", "0012345")
    assert handset.send("150") == (
        "END Платеж не выполнен. Поставщик сейчас не отвечает. Попробуйте через несколько минут."
    )
    assert not Payment.objects.exists()
