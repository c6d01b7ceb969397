"""Every bad input of the issue: a message in the user's language, never a 500, nothing moved."""

import html

import pytest

from billing import services
from billing.models import Payment
from tests.factories import make_wallet
from wallets import ledger
from wallets.models import Transfer

from .helpers import INN, confirm_data, next_step, text

pytestmark = pytest.mark.django_db

BALANCE = 1_000_000_00


@pytest.fixture
def wallet(client):
    wallet = make_wallet(balance=BALANCE)
    client.force_login(wallet.user)
    yield wallet
    # Nothing moved, nothing saved.
    assert not Payment.objects.exists()
    assert not Transfer.objects.exclude(kind="cashin").exists()
    assert ledger.balance_of(wallet.account) == BALANCE


def shown(response):
    assert response.status_code == 200
    return html.unescape(text(response))


@pytest.mark.parametrize(
    "slug, account, amount, message",
    [
        ("dostek", INN, "0", "Сумма должна быть больше нуля."),
        ("dostek", INN, "0,00", "Сумма должна быть больше нуля."),
        ("dostek", INN, "-5", "Сумма должна быть больше нуля."),
        ("dostek", INN, "10,555", "В сумме не больше 2 знаков после запятой (тыйыны)."),
        ("dostek", INN, "сто", "Введите сумму в сомах цифрами, например 150 или 150,50."),
        ("dostek", INN, "12abc", "Введите сумму в сомах цифрами, например 150 или 150,50."),
        ("dostek", INN, "1000000000000", "Слишком большая сумма: не больше 10 000 000,00 сом."),
        ("dostek", INN, "", "Введите сумму."),
        (
            "dostek-ecp",
            "1234567890123456",
            "99,99",
            "Минимальная сумма для этой услуги — 100,00 сом.",
        ),
        ("dostek", INN, "500000,01", "Максимальная сумма для этой услуги — 500 000,00 сом."),
        (
            "dostek",
            "0123456789012",
            "10",
            "ИНН организации или ИП, чей баланс в СОчИ пополняется: 14 цифр",
        ),
        ("dostek", "012345678901234", "10", "ИНН состоит из 14 цифр."),
        ("dostek", "0123456789012A", "10", "ИНН состоит из 14 цифр."),
        ("dostek", "ИНН01234567890", "10", "ИНН состоит из 14 цифр."),
        (
            "dostek",
            "23202199012345",
            "10",
            "Дата рождения в этом ИНН (32.02.1990) — несуществующая дата.",
        ),
        (
            "dostek",
            "22902200112345",
            "10",
            "Дата рождения в этом ИНН (29.02.2001) — несуществующая дата.",
        ),
        ("dostek", "", "10", "Введите лицевой счёт."),
        (
            "dostek-ecp",
            "123456789012345",
            "150",
            "16 цифр: номер платёжного счёта, выданный при регистрации ЭЦП",
        ),
        ("hoster", "1012345", "150", "Код должен начинаться с 00."),
        (
            "hoster",
            "0O12345",
            "150",
            "Код оплаты из личного кабинета Hoster.kg (Финансы → Платежи), начинается с 00",
        ),
    ],
)
def test_bad_form_input_stays_on_the_form(
    client, wallet, catalogue, slug, account, amount, message
):
    response = next_step(client, catalogue[slug], account, amount)
    page = shown(response)
    assert message in page
    assert "Далее" in page and "Оплатить" not in page


def test_too_long_account_is_refused(client, wallet, catalogue):
    page = shown(next_step(client, catalogue["dostek"], "1" * 65, "10"))
    assert "Далее" in page and "Оплатить" not in page


def test_html_in_the_account_is_escaped(client, wallet, catalogue):
    response = next_step(client, catalogue["dostek"], "<script>alert(1)</script>", "10")
    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.fixture
def confirm(client, wallet, catalogue):
    return next_step(client, catalogue["dostek"], INN, "150")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"provider_id": "PROVIDER"}, "Форма платежа была изменена. Проверьте платёж ещё раз."),
        ({"provider_id": "abc"}, "Форма платежа была изменена. Проверьте платёж ещё раз."),
        ({"provider_id": ""}, "Форма платежа была изменена. Проверьте платёж ещё раз."),
        ({"token": ""}, "Форма платежа была изменена. Проверьте платёж ещё раз."),
        ({"token": "forged"}, "Форма платежа устарела. Проверьте платёж ещё раз."),
        ({"token": "TOKEN_OF_ANOTHER_WALLET"}, "Форма платежа устарела. Проверьте платёж ещё раз."),
        ({"token": "x" * 300}, "Форма платежа была изменена. Проверьте платёж ещё раз."),
        ({"amount": "0"}, "Сумма должна быть больше нуля."),
        ({"amount": "abc"}, "Введите сумму в сомах цифрами, например 150 или 150,50."),
        ({"account": "1"}, "ИНН организации или ИП, чей баланс в СОчИ пополняется: 14 цифр"),
    ],
)
def test_tampered_confirm_post_is_refused(client, catalogue, confirm, change, message):
    data = confirm_data(confirm)
    for key, value in change.items():
        if value == "PROVIDER":
            value = str(catalogue["hoster"].pk)
        if value == "TOKEN_OF_ANOTHER_WALLET":
            value = services.payment_token_new(wallet=make_wallet())
        data[key] = value
    page = shown(client.post("/pay/dostek/confirm/", data))
    assert message in page
    assert "Далее" in page


def test_confirm_posted_to_another_providers_url_is_refused(client, catalogue, confirm):
    page = shown(client.post("/pay/hoster/confirm/", confirm_data(confirm)))
    assert "Форма платежа была изменена. Проверьте платёж ещё раз." in page


def test_unknown_or_inactive_provider_is_404(client, wallet, catalogue):
    assert client.get("/pay/no-such-provider/").status_code == 404
    hoster = catalogue["hoster"]
    hoster.active = False
    hoster.save()
    assert client.get("/pay/hoster/").status_code == 404
    assert client.post("/pay/hoster/", {"account": "0012345", "amount": "10"}).status_code == 404


def test_confirm_needs_post(client, wallet, catalogue):
    assert client.get("/pay/dostek/confirm/").status_code == 405
