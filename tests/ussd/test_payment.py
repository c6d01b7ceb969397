"""Paying from any phone: seeds 000/001 §2.1–2.9, in both languages, on billing's services."""

import pytest
from django.utils import translation

from billing.models import Payment, format_code
from billing.services import payment_sms_text
from tests.ussd.conftest import sms_to, ussd_wallet
from ussd.models import UssdSession
from wallets import ledger
from wallets.models import Account, Transfer, Wallet

pytestmark = pytest.mark.django_db

PIN = "4826"
INN = "01503200010123"  # a company's INN (DosTek's account)

SEED = {
    "ru": {
        "menu": "CON Kapchyk *900#\n2 Переводы\n3 Платежи/Комм.услуги\n8 Баланс/Настройки",
        "payments": "CON Платежи/Комм.услуги\n3 Оплатить счет\n0 Назад",
        "categories": "CON Выберите категорию:\n",
        "providers": "CON {category}. Выберите услугу:\n",
        "account": "CON Достэк\nНаберите лицевой счет ({label}):",
        "amount": "CON Введите сумму для оплаты (сом):",
        "confirm": "CON Проверьте:\nДостэк\nСчет: 01503200010123\nСумма: 1 500,00 сом\n"
        "Наберите свой пин-код:",
        "done": "END Платеж принят. Код платежа: {code}. SMS с кодом придет на Ваш номер.",
        "back": "\n0 Назад",
    },
    "ky": {
        "menu": "CON Kapchyk *900#\n2 Которуулар\n3 Төлөмдөр/Комм.кызматтар\n8 Баланс/Жөндөөлөр",
        "payments": "CON Төлөмдөр/Комм.кызматтар\n3 Эсепти төлөө\n0 Артка",
        "categories": "CON Категорияны тандаңыз:\n",
        "providers": "CON {category}. Кызматты тандаңыз:\n",
        "account": "CON Достэк\nӨздүк эсепти ({label}) териңиз:",
        "amount": "CON Төлөөчү сумманы (сом) териңиз:",
        "confirm": "CON Текшериңиз:\nДостэк\nЭсеп: 01503200010123\nСумма: 1 500,00 сом\n"
        "Пин-кодуңузду териңиз:",
        "done": "END Төлөм кабыл алынды. Төлөм коду: {code}. Коду бар SMS келет.",
        "back": "\n0 Артка",
    },
}


@pytest.mark.parametrize("language", ["ru", "ky"])
def test_seed_payment_path(phone, catalogue, language):
    wallet = ussd_wallet(balance=5_000_00, language=language, pin=PIN)
    dostek, other = catalogue["dostek"], catalogue["other"]
    texts = SEED[language]
    handset = phone(wallet.number)
    assert handset.dial() == texts["menu"]  # 2.1 *900#
    assert handset.send("3") == texts["payments"]  # 2.2 3 Платежи/Комм.услуги
    categories = handset.send("3")  # 2.3 3 Оплатить счет
    assert categories.startswith(texts["categories"])
    with translation.override(language):
        label = dostek.account_label
    category_name = "Другие услуги"  # the operators' menu name, in both languages (seeds)
    assert other.menu_name == category_name
    assert f"\n14 {category_name}\n" in categories
    assert categories.endswith(texts["back"])
    providers = handset.send("14")  # 2.4 category 14
    assert providers.startswith(texts["providers"].format(category=category_name))
    assert "\n14 Достэк\n" in providers
    assert handset.send("14") == texts["account"].format(label=label)  # 2.5 provider 14
    assert handset.send(INN) == texts["amount"]  # 2.6 the company's 14-digit INN
    assert handset.send("1500") == texts["confirm"]  # 2.7 the amount in som
    assert Payment.objects.count() == 0
    done = handset.send(PIN)  # 2.8 check INN and amount, type the PIN

    payment = Payment.objects.get()
    assert done == texts["done"].format(code=format_code(payment.code))
    assert (payment.wallet, payment.provider, payment.account) == (wallet, dostek, INN)
    assert (payment.amount, payment.fee, payment.total) == (1_500_00, 0, 1_500_00)
    assert payment.status == Payment.Status.SUCCEEDED
    assert payment.channel == Payment.Channel.USSD
    assert len(payment.code) == 12
    # 2.9 an SMS with the payment code (billing's text, in the owner's language).
    [sms] = sms_to(wallet.number)
    with translation.override(language):
        assert sms == payment_sms_text(payment)
    assert format_code(payment.code) in sms
    # The money went through the ledger: wallet → suspense → DosTek.
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 3_500_00
    assert ledger.balance_of(dostek.account) == 1_500_00
    assert ledger.balance_of(ledger.system_account(Account.Kind.SUSPENSE)) == 0
    assert set(Transfer.objects.filter(memo=payment.memo).values_list("kind", flat=True)) <= {
        Transfer.Kind.PAYMENT_HOLD,
        Transfer.Kind.PAYMENT_SETTLE,
    }
    assert Transfer.objects.filter(idempotency_key=payment.ledger_key("hold")).count() == 1
    assert ledger.check() == []


def test_repeated_and_late_requests_never_pay_twice(phone, catalogue):
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    handset = phone(wallet.number)
    handset.dial()
    handset.send("3", "3", "14", "14", INN, "10")
    done = handset.send(PIN)
    assert done.startswith("END Платеж принят.")
    # The gateway repeats the last request, then a late copy of an earlier one arrives.
    assert handset.again() == done
    assert handset.post("3*3*14*14*" + INN + "*10") == done
    assert handset.post("3*3") == done
    # And inputs after the END do nothing either.
    assert handset.post("*".join([*handset.inputs, PIN])) == done
    assert Payment.objects.count() == 1
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 90_00
    assert len(sms_to(wallet.number)) == 1


def test_a_repeated_request_mid_session_shows_the_same_step(phone, catalogue):
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    handset = phone(wallet.number)
    handset.dial()
    handset.send("3", "3", "14", "14")
    amount_prompt = handset.send(INN)
    assert handset.again() == amount_prompt
    assert handset.post("3*3") == amount_prompt  # late: nothing is undone or skipped
    assert handset.send("10").startswith("CON Проверьте:")
    assert UssdSession.objects.get().consumed == 6


def test_all_inputs_at_once_are_applied_in_order(phone, catalogue):
    # A gateway that lost the intermediate requests sends everything at once.
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    handset = phone(wallet.number)
    handset.dial()
    assert handset.post(f"3*3*14*14*{INN}*10*{PIN}").startswith("END Платеж принят.")
    assert Payment.objects.get().amount == 10_00


def test_paying_again_in_a_new_session_is_a_new_payment(phone, catalogue):
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    for session in ("a", "b"):
        handset = phone(wallet.number, session)
        handset.dial()
        handset.send("3", "3", "14", "14", INN, "10", PIN)
    assert Payment.objects.count() == 2
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 80_00


def test_account_errors_reask_with_the_providers_hint(phone, catalogue):
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    dostek = catalogue["dostek"]
    handset = phone(wallet.number)
    handset.dial()
    prompt = handset.send("3", "3", "14", "14")
    for bad in ("123", "0150320001012x", "21505209900123", ""):
        screen = handset.send(bad)
        assert screen.startswith(f"CON Неверный счет. {dostek.account_hint_ru[:40]}")
        assert screen.endswith(prompt[4:])
    assert handset.send("0150 3200 0101 23") == "CON Введите сумму для оплаты (сом):"


def test_amount_errors_reask_with_a_short_message(phone, catalogue):
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    handset = phone(wallet.number)
    handset.dial()
    handset.send("3", "3", "14", "14", INN)
    prompt = "Введите сумму для оплаты (сом):"
    assert handset.send("сто") == f"CON Неверная сумма. Например: 150.\n{prompt}"
    assert handset.send("0") == f"CON Неверная сумма. Например: 150.\n{prompt}"
    assert handset.send("-5") == f"CON Неверная сумма. Например: 150.\n{prompt}"
    assert handset.send("0,50") == (
        f"CON Сумма должна быть от 1,00 сом до 500 000,00 сом.\n{prompt}"
    )
    assert handset.send("600000") == (
        f"CON Сумма должна быть от 1,00 сом до 500 000,00 сом.\n{prompt}"
    )
    assert handset.send("100,01") == f"CON Недостаточно средств. Баланс: 100,00 сом.\n{prompt}"
    assert handset.send("99999999999999999999") == (f"CON Неверная сумма. Например: 150.\n{prompt}")
    assert handset.send("100").startswith("CON Проверьте:")
    assert Payment.objects.count() == 0


def test_fee_is_shown_with_the_total(phone, catalogue):
    wallet = ussd_wallet(balance=1_000_00, language="ky", pin=PIN)
    handset = phone(wallet.number)
    handset.dial()
    handset.send("3", "3", "14", "16", "0012345")
    assert handset.send("200") == (
        "CON Текшериңиз:\nHoster.kg\nЭсеп: 0012345\nСумма: 200,00 сом\nКомиссия: 2,00 сом\n"
        "Бардыгы: 202,00 сом\nПин-кодуңузду териңиз:"
    )
    assert handset.send(PIN).startswith("END Төлөм кабыл алынды.")
    payment = Payment.objects.get()
    assert (payment.amount, payment.fee, payment.total) == (200_00, 2_00, 202_00)
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 798_00


def test_money_spent_meanwhile_is_refused_at_the_pin(phone, catalogue):
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    handset = phone(wallet.number)
    handset.dial()
    handset.send("3", "3", "14", "14", INN, "80")
    # Another session spends the money before this one types the PIN.
    other = phone(wallet.number, "other")
    other.dial()
    other.send("3", "3", "14", "14", INN, "50", PIN)
    screen = handset.send(PIN)
    assert screen.startswith("END Платеж не выполнен.")
    assert Payment.objects.count() == 1
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 50_00


def test_wrong_pin_at_the_summary_reasks(phone, catalogue):
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    handset = phone(wallet.number)
    handset.dial()
    summary = handset.send("3", "3", "14", "14", INN, "10")
    assert handset.send("12") == "CON Пин-код состоит из 4 цифр.\n" + summary[4:]
    assert handset.send("1111") == "CON Неверный пин-код. Осталось попыток: 2.\n" + summary[4:]
    assert handset.send(PIN).startswith("END Платеж принят.")
    assert Wallet.objects.get(pk=wallet.pk).pin_failed_attempts == 0


def test_wallet_without_pin_gets_one_by_sms(phone, catalogue):
    # A wallet opened on the site has no USSD PIN yet: it is sent when first needed.
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    Wallet.objects.filter(pk=wallet.pk).update(pin_hash="")
    handset = phone(wallet.number)
    handset.dial()
    assert handset.send("3", "3", "14", "14", INN, "10") == (
        "END Пин-код отправлен Вам в SMS. Наберите *900# снова."
    )
    [sms] = sms_to(wallet.number)
    assert sms.startswith("Kapchyk: Ваш пин-код для *900#: ")
    assert Payment.objects.count() == 0


def test_back_and_menu_navigation(phone, catalogue):
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    handset = phone(wallet.number)
    menu = handset.dial()
    assert handset.send("7") == "CON Неверный выбор.\n" + menu[4:]
    payments = handset.send("3")
    assert handset.send("0") == menu
    assert handset.send("3") == payments
    categories = handset.send("3")
    assert handset.send("99") == "CON Неверный выбор.\n" + categories[4:]
    providers = handset.send("14")
    assert handset.send("0") == categories
    assert handset.send("14") == providers
    assert handset.send("1") == "CON Неверный выбор.\n" + providers[4:]
    assert handset.send("0") == categories
    assert handset.send("0") == payments


def test_inactive_provider_is_not_listed(phone, catalogue):
    catalogue["dostek"].__class__.objects.filter(slug="dostek").update(active=False)
    wallet = ussd_wallet(balance=100_00, pin=PIN)
    handset = phone(wallet.number)
    handset.dial()
    providers = handset.send("3", "3", "14")
    assert "Достэк" not in providers
    assert handset.send("14").startswith("CON Неверный выбор.")


def test_other_digits_from_the_gateway_are_read_as_ascii(phone, catalogue):
    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    wallet = ussd_wallet(balance=5_000_00, pin=PIN)
    handset = phone(wallet.number)
    handset.dial()
    handset.send(*(value.translate(arabic) for value in ("3", "3", "14", "14", INN, "1500")))
    assert handset.send(PIN.translate(arabic)).startswith("END Платеж принят.")
    payment = Payment.objects.get()
    assert (payment.account, payment.amount) == (INN, 1_500_00)


def test_a_fee_changed_before_the_pin_is_refused_and_moves_nothing(phone, catalogue):
    # The check screen bound the price it showed: staff raising the fee meanwhile does not
    # charge a total the payer never saw (issue: the fee was recomputed at «Оплатить»).
    wallet = ussd_wallet(balance=5_000_00, language="ru", pin=PIN)
    dostek = catalogue["dostek"]
    handset = phone(wallet.number)
    handset.dial()
    for step in ("3", "3", "14", "14", INN):
        handset.send(step)
    assert handset.send("1500") == SEED["ru"]["confirm"]
    dostek.fee_fixed = 10_00
    dostek.save()
    screen = handset.send(PIN)
    assert screen.startswith("END ")
    assert "Цена изменилась после того, как было показано подтверждение." in screen
    assert Payment.objects.count() == 0
    assert ledger.balance_of(wallet.account) == 5_000_00
    assert sms_to(wallet.number) == []
