import html

import pytest

from billing.models import Payment
from tests.factories import make_wallet
from wallets import ledger

from .helpers import INN, confirm_data, next_step, text

pytestmark = pytest.mark.django_db


def test_used_token_with_changed_amount_is_refused(client, catalogue):
    wallet = make_wallet(balance=1_000_00)
    client.force_login(wallet.user)
    data = confirm_data(next_step(client, catalogue["dostek"], INN, "100"))
    first = client.post("/pay/dostek/confirm/", data)
    assert first.status_code == 302
    data["amount"] = "200.00"
    again = client.post("/pay/dostek/confirm/", data)
    assert again.status_code == 200
    assert (
        "Это подтверждение уже использовано для другого платежа. Проверьте платёж ещё раз."
        in html.unescape(text(again))
    )
    assert Payment.objects.count() == 1
    assert ledger.balance_of(wallet.account) == 900_00
