"""One notification per event for its owner, with its exact text in the owner's language,
written in the transaction that moves the money (or changes the secret): payments
succeeded (failed / refunded: tests/gateways/test_notify.py), QR payment received (the merchant's cashiers), a sign-in
from a new device, the password or the *900# PIN changed. Transfers: tests/transfers."""

import pytest
from django.test import Client

from billing import services as billing
from billing.models import format_code
from notifications.devices import DEVICE_COOKIE
from notifications.models import Notification
from qr import services as qr
from tests.factories import PASSWORD, ProviderFactory, UserFactory, make_wallet
from tests.qr.payments import merchant
from ussd import services as ussd
from wallets.models import SmsMessage
from wallets.phones import format_number

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def notes(user, kind=None):
    rows = Notification.objects.filter(user=user).order_by("id")
    if kind:
        rows = rows.filter(kind=kind)
    return list(rows.values_list("kind", "text", "url"))


def sms_to(number):
    return list(
        SmsMessage.objects.filter(phone=number).order_by("id").values_list("text", flat=True)
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "ru",
            "Капчык: оплачено 100,00 сом, {name}, счёт 01234567890123, комиссия 5,00 сом. "
            "Код платежа {code}.",
        ),
        (
            "ky",
            "Капчык: 100,00 сом төлөндү, {name}, эсеп 01234567890123, комиссия 5,00 сом. "
            "Төлөм коду {code}.",
        ),
    ],
)
def test_payment_succeeded_in_the_owners_language_with_the_sms(language, expected):
    provider = ProviderFactory(fee_fixed=5_00, name_ru="Свет", name_ky="Жарык")
    wallet = make_wallet(balance=200_00, user=UserFactory(language=language))
    payment = billing.payment_create(
        wallet=wallet,
        provider=provider,
        account="01234567890123",
        amount=100_00,
        token=billing.payment_token_new(wallet=wallet),
    )
    name = {"ru": "Свет", "ky": "Жарык"}[language]
    text = expected.format(name=name, code=format_code(payment.code))
    assert notes(wallet.user) == [("payment_succeeded", text, f"/pay/receipt/{payment.code}/")]
    assert sms_to(wallet.number) == [text]


def test_a_qr_payment_tells_the_payer_and_each_cashier_in_their_language():
    cashier_ky = make_wallet(user=UserFactory(language="ky"))
    cashier_ru = make_wallet(user=UserFactory(language="ru"))
    shop = merchant(cashier=cashier_ky)
    shop.cashiers.add(cashier_ru)
    payer = make_wallet(balance=500_00)
    link = qr.merchant_link(shop)
    scan = qr.scan_resolve(link)
    quote = qr.qr_quote(wallet=payer, scan=scan, amount=120_00)
    token = qr.qr_token_new(wallet=payer, quote=quote)
    payment = qr.qr_payment_create(wallet=payer, link=link, amount=120_00, token=token)
    code = payment.display_code
    assert notes(payer.user) == [
        (
            "payment_succeeded",
            f'Капчык: оплачено 120,00 сом, КАФЕ "КЕНТ", по QR-коду. Код платежа {code}.',
            payment.get_absolute_url(),
        )
    ]
    assert notes(cashier_ky.user) == [
        (
            "qr_received",
            f'Капчык: КАФЕ "КЕНТ" ky QR-код боюнча 120,00 сом алды, төлөм {code}.',
            shop.get_absolute_url(),
        )
    ]
    assert notes(cashier_ru.user) == [
        (
            "qr_received",
            f'Капчык: КАФЕ "КЕНТ" получил 120,00 сом по QR-коду, платёж {code}.',
            shop.get_absolute_url(),
        )
    ]


NEW_DEVICE = {
    "ru": "Капчык: вход в ваш кошелёк с нового устройства. Если это были не вы, смените пароль "
    "и позвоните в поддержку.",
    "ky": "Капчык: капчыгыңызга жаңы түзмөктөн кирилди. Эгер бул сиз болбосоңуз, сырсөздү "
    "алмаштырып, колдоо кызматына чалыңыз.",
}


def sign_in(client, wallet, password=PASSWORD):
    client.post("/accounts/login/", {"phone": wallet.number})
    return client.post("/accounts/login/password/", {"password": password})


def test_a_sign_in_from_a_new_browser_is_told_once_per_browser():
    wallet = make_wallet(user=UserFactory(language="ky"))
    phone = Client()
    phone.cookies["kapchyk_language"] = "ky"  # signed in in Kyrgyz: told in Kyrgyz
    assert sign_in(phone, wallet)["Location"] == "/cabinet/"
    assert notes(wallet.user) == [("new_device", NEW_DEVICE["ky"], "/notifications/")]
    cookie = phone.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["max-age"] == 400 * 24 * 3600
    assert cookie.value.split(":")[0] != str(wallet.user.pk)  # no id in clear

    phone.post("/accounts/logout/")
    assert sign_in(phone, wallet)["Location"] == "/cabinet/"  # the same browser again
    assert len(notes(wallet.user)) == 1

    laptop = Client()  # no language cookie: Russian, and the owner's language is Russian now
    sign_in(laptop, wallet)
    assert notes(wallet.user)[1] == ("new_device", NEW_DEVICE["ru"], "/notifications/")
    assert SmsMessage.objects.filter(phone=wallet.number).count() == 0  # in-app and push only


def test_a_browser_remembers_each_owner_and_a_forged_cookie_counts_for_nothing():
    alice, bob = make_wallet(), make_wallet()
    shared = Client()
    sign_in(shared, alice)
    shared.post("/accounts/logout/")
    sign_in(shared, bob)  # a new device for bob, on a browser alice used
    shared.post("/accounts/logout/")
    sign_in(shared, alice)
    assert len(notes(alice.user)) == 1 and len(notes(bob.user)) == 1

    forged = Client()
    forged.cookies[DEVICE_COOKIE] = shared.cookies[DEVICE_COOKIE].value + "x"
    sign_in(forged, alice)
    assert len(notes(alice.user)) == 2


def test_a_failed_sign_in_tells_nothing():
    wallet = make_wallet()
    sign_in(Client(), wallet, password="wrong-pass1")
    assert notes(wallet.user) == []


def test_changing_the_password_is_told_in_app_and_by_sms(django_capture_on_commit_callbacks):
    wallet = make_wallet(user=UserFactory(language="ky"))
    client = Client()
    client.force_login(wallet.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/password/change/",
            {"oldpassword": PASSWORD, "password1": "newpass2026", "password2": "newpass2026"},
        )
    assert response.status_code == 302
    text = (
        f"Капчык: {format_number(wallet.number)} капчыгынын сырсөзү өзгөртүлдү. Эгер бул сиз "
        "болбосоңуз, аны SMS аркылуу калыбына келтирип, колдоо кызматына чалыңыз."
    )
    assert notes(wallet.user) == [("secret_changed", text, "")]
    assert sms_to(wallet.number) == [text]


def test_a_refused_password_change_tells_nothing():
    wallet = make_wallet()
    client = Client()
    client.force_login(wallet.user)
    client.post(
        "/accounts/password/change/",
        {"oldpassword": "wrong-pass1", "password1": "newpass2026", "password2": "newpass2026"},
    )
    assert notes(wallet.user) == []


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", "Kapchyk: пин-код *900# изменен. Если это были не Вы, позвоните 0312 986 000."),
        (
            "ky",
            "Kapchyk: *900# пин-коду алмаштырылды. Бул сиз эмес болсоңуз, "
            "0312 986 000 номерине чалыңыз.",
        ),
    ],
)
def test_a_ussd_pin_change_is_told_in_app_and_by_sms(language, text):
    wallet = make_wallet(user=UserFactory(language=language))
    old = ussd.pin_hash_new("1234")
    type(wallet).objects.filter(pk=wallet.pk).update(pin_hash=old)
    assert ussd.pin_change(wallet=wallet, expected_hash=old, new_hash=ussd.pin_hash_new("5678"))
    assert notes(wallet.user) == [("secret_changed", text, "")]
    assert sms_to(wallet.number) == [text]
    # A PIN that changed meanwhile: nothing changes, nothing is told.
    assert not ussd.pin_change(wallet=wallet, expected_hash=old, new_hash=old)
    assert len(notes(wallet.user)) == 1
