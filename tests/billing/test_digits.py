"""Account and amount typed in Arabic-Indic or full-width digits: the payment is made with
ASCII digits (what reaches the provider's registry), never with the digits as typed."""

import pytest

from billing.models import Payment
from tests.factories import make_wallet

from .helpers import confirm_data, hidden, next_step, text

pytestmark = pytest.mark.django_db

INN = "01503200010123"


@pytest.mark.parametrize(
    "account, amount",
    [
        ("٠١٥٠٣٢٠٠٠١٠١٢٣", "١٥٠٠"),
        ("۰۱۵۰۳۲۰۰۰۱۰۱۲۳", "۱۵۰۰,۰۰"),
        ("０１５０３２０００１０１２３", "１５００．００"),
        ("0150 3200 0101 23", "1 500"),
    ],
)
def test_other_digits_are_paid_as_ascii(client, catalogue, account, amount):
    wallet = make_wallet(balance=5_000_00)
    client.force_login(wallet.user)
    response = next_step(client, catalogue["dostek"], account, amount)
    assert response.status_code == 200
    assert (hidden(response, "account"), hidden(response, "amount")) == (INN, "1 500,00")
    assert INN in text(response)
    client.post("/pay/dostek/confirm/", confirm_data(response))
    payment = Payment.objects.get()
    assert (payment.account, payment.amount) == (INN, 1_500_00)


def test_superscript_digits_are_refused(client, catalogue):
    wallet = make_wallet(balance=5_000_00)
    client.force_login(wallet.user)
    response = next_step(client, catalogue["dostek"], "0150320001012³", "10")
    assert response.status_code == 200
    assert "ИНН состоит из 14 цифр." in text(response)
    assert not Payment.objects.exists()
