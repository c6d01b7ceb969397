"""Bad input found by fuzzing `make serve`: each a clear 400/404 or a page, never a 500.
Run on PostgreSQL too (it refuses NUL bytes that SQLite stores)."""

import pytest
from django.test import Client

from billing.models import Payment
from tests.factories import make_wallet

from ..billing.helpers import INN, confirm_data, next_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def wallet():
    return make_wallet(balance=1_000_00)


@pytest.fixture
def client(wallet):
    client = Client(raise_request_exception=False)
    client.force_login(wallet.user)
    return client


@pytest.fixture
def payment(client, wallet, catalogue):
    response = next_step(client, catalogue["dostek"], INN, "10")
    client.post("/pay/dostek/confirm/", confirm_data(response))
    return Payment.objects.get(wallet=wallet)


# --- NUL bytes ---


@pytest.mark.parametrize(
    "url",
    [
        "/pay/receipt/%00/",
        "/pay/receipt/AB%00CD/",
        "/services/?q=%00",
        "/services/?q=abc%00def",
        "/services/other/?q=%00",
        "/cabinet/history/?date_from=%00",
        "/cabinet/history/?provider=1%00",
        "/pay/dostek/?account=%00",
    ],
)
def test_a_nul_byte_in_a_get_is_a_clear_400(client, catalogue, url):
    response = client.get(url)
    assert response.status_code == 400
    assert "Недопустимый символ в запросе." in response.content.decode()


def test_a_nul_byte_in_a_receipt_code_of_a_post(client, payment):
    response = client.post(f"/pay/receipt/{payment.code}%00/favourite/", {"name": "x"})
    assert response.status_code == 400
    response = client.post(f"/pay/receipt/{payment.code}/favourite/", {"name": "Дом\x00"})
    assert response.status_code == 400
    assert not payment.wallet.user.favourites.exists()


def test_a_nul_byte_in_a_payment_form(client, wallet, catalogue):
    response = client.post("/pay/dostek/", {"account": INN + "\x00", "amount": "10"})
    assert response.status_code == 400
    response = client.post("/pay/dostek/", {"account\x00": INN, "amount": "10"})
    assert response.status_code == 400


def test_a_nul_byte_before_sign_in(catalogue):
    response = Client(raise_request_exception=False).post(
        "/accounts/login/", {"login": "0555123456\x00", "password": "x"}
    )
    assert response.status_code == 400


def test_the_same_pages_without_nul_still_work(client, payment):
    assert client.get(f"/pay/receipt/{payment.code}/").status_code == 200
    assert client.get("/services/?q=сочи").status_code == 200


# --- periods out of the calendar's range ---


@pytest.mark.parametrize("url", ["/cabinet/history/statement.csv", "/cabinet/history/"])
@pytest.mark.parametrize(
    "period",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
    ],
)
def test_a_period_at_the_ends_of_the_calendar(client, payment, url, period):
    response = client.get(url, period)
    assert response.status_code == 200
    assert payment.account in response.content.decode()  # the period holds the payment


def test_the_cabinet_history_at_the_ends_of_the_calendar_lists_everything(client, payment):
    everything = client.get("/cabinet/history/").content.decode().count('class="op"')
    response = client.get("/cabinet/history/", {"date_from": "0001-01-01", "date_to": "9999-12-31"})
    assert response.content.decode().count('class="op"') == everything > 1


def test_a_nul_byte_in_the_session_cookie(catalogue, settings):
    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = "abcdefgh\x00ijklmnop"
    response = client.get("/services/")
    assert response.status_code == 400
    assert "Недопустимый символ в запросе." in response.content.decode()
