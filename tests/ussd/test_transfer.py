"""*900# → 2 Переводы → number → amount → check («Имя Ф.», amount) + PIN → transfer code."""

import pytest

from notifications.models import Notification
from tests.ussd.conftest import sms_to, ussd_wallet
from transfers.models import WalletTransfer, masked_number
from wallets import ledger
from wallets.models import Transfer, User

pytestmark = pytest.mark.django_db

PIN = "4826"

SEED = {
    "ru": {
        "number": "CON Переводы\nВведите номер получателя (например 0555123456):\n0 Назад",
        "amount": "CON Введите сумму перевода (сом):",
        "confirm": "CON Проверьте:\nПолучатель: Бакыт О.\n{number}\nСумма: 150,00 сом\n"
        "Наберите свой пин-код:",
        "done": "END Перевод выполнен. Код перевода: {code}. SMS придет Вам и получателю.",
        "no_wallet": "CON У этого номера пока нет кошелька Kapchyk.\n",
        "self": "CON Это Ваш собственный кошелек.\n",
        "funds": "CON Недостаточно средств. Баланс: 500,00 сом.\n",
    },
    "ky": {
        "number": "CON Которуулар\nАлуучунун номерин териңиз (мисалы 0555123456):\n0 Артка",
        "amount": "CON Которуунун суммасын (сом) териңиз:",
        "confirm": "CON Текшериңиз:\nАлуучу: Бакыт О.\n{number}\nСумма: 150,00 сом\n"
        "Пин-кодуңузду териңиз:",
        "done": "END Которуу аткарылды. Которуунун коду: {code}. Сизге жана алуучуга SMS келет.",
        "no_wallet": "CON Бул номерде азырынча Kapchyk капчыгы жок.\n",
        "self": "CON Бул өзүңүздүн капчыгыңыз.\n",
        "funds": "CON Каражат жетишсиз. Баланс: 500,00 сом.\n",
    },
}


def _bob():
    bob = ussd_wallet(language="ky", phone="+996700123456")
    User.objects.filter(pk=bob.user_id).update(full_name="Бакыт Осмонов")
    return bob


@pytest.mark.parametrize("language", ["ru", "ky"])
def test_a_transfer_by_ussd(phone, language):
    alice = ussd_wallet(balance=500_00, language=language, pin=PIN)
    bob = _bob()
    texts = SEED[language]
    handset = phone(alice.number)
    assert "\n2 " in handset.dial()
    assert handset.send("2") == texts["number"]
    assert handset.send("0700 123 456") == texts["amount"]
    confirm = handset.send("150")
    assert confirm == texts["confirm"].format(number=masked_number(bob.number))
    assert WalletTransfer.objects.count() == 0
    done = handset.send(PIN)
    operation = WalletTransfer.objects.get()
    assert done == texts["done"].format(code=operation.display_code)
    assert operation.channel == WalletTransfer.Channel.USSD
    assert (operation.sender, operation.recipient, operation.amount) == (alice, bob, 150_00)
    assert ledger.balance_of(alice.account) == 350_00
    assert ledger.balance_of(bob.account) == 150_00
    assert Transfer.objects.filter(kind=Transfer.Kind.WALLET_TRANSFER).count() == 1
    # Both sides get an SMS (and an in-app notification) with the code.
    [sent] = sms_to(alice.number)
    [received] = sms_to(bob.number)
    assert operation.display_code in sent and operation.display_code in received
    assert "Бакыт О." in sent and "сизге 150,00 сом которду" in received  # bob reads ky
    assert Notification.objects.filter(user__in=[alice.user, bob.user]).count() == 2
    # The gateway repeating the last request moves nothing more.
    handset.again()
    assert WalletTransfer.objects.count() == 1


@pytest.mark.parametrize("language", ["ru", "ky"])
def test_refusals_by_ussd(phone, language):
    alice = ussd_wallet(balance=500_00, language=language, pin=PIN)
    _bob()
    texts = SEED[language]
    handset = phone(alice.number)
    handset.dial()
    handset.send("2")
    assert handset.send("0555 000 999").startswith(texts["no_wallet"])
    assert handset.send(alice.number).startswith(texts["self"])
    assert handset.send("12").startswith("CON Номер не распознан." if language == "ru" else "CON ")
    assert handset.send("0700123456") == texts["amount"]
    assert handset.send("500,01").startswith(texts["funds"])
    assert handset.send("0").startswith("CON ")  # an amount of 0 is refused, asked again
    assert WalletTransfer.objects.count() == 0
    assert ledger.balance_of(alice.account) == 500_00


def test_a_wrong_pin_moves_nothing(phone):
    alice = ussd_wallet(balance=500_00, pin=PIN)
    _bob()
    handset = phone(alice.number)
    handset.dial()
    handset.send("2", "0700123456", "100")
    assert handset.send("1111").startswith("CON ")
    assert WalletTransfer.objects.count() == 0
    assert ledger.balance_of(alice.account) == 500_00


def test_back_from_the_number_goes_to_the_main_menu(phone):
    alice = ussd_wallet(balance=500_00, pin=PIN)
    handset = phone(alice.number)
    menu = handset.dial()
    handset.send("2")
    assert handset.send("0") == menu
