"""A signed-in person's pages are never stored by a browser or proxy (a shared computer's
back button, a caching proxy): Cache-Control: no-store."""

import re

import pytest

from billing.models import Payment
from tests.factories import make_wallet

from ..billing.helpers import INN, confirm_data, next_step

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment(client, catalogue):
    wallet = make_wallet(balance=1_000_00)
    client.force_login(wallet.user)
    response = next_step(client, catalogue["dostek"], INN, "10")
    client.post("/pay/dostek/confirm/", confirm_data(response))
    return Payment.objects.get(wallet=wallet)


def test_cabinet_pages_are_not_stored(client, payment):
    pages = [
        "/cabinet/",
        "/cabinet/history/",
        "/cabinet/security/",
        "/cabinet/history/statement.csv",
        "/pay/favourites/",
        f"/pay/receipt/{payment.code}/",
        "/pay/dostek/",
        "/services/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        assert "private" in response["Cache-Control"], url
    confirm = next_step(client, payment.provider, INN, "10")
    assert "no-store" in confirm["Cache-Control"]
    # The shareable receipt (anyone with the link) is not kept by a cache either.
    page = client.get(f"/pay/receipt/{payment.code}/").content.decode()
    shared = re.search(r'href="http://testserver(/pay/shared/[^"]+/)"', page)[1]
    client.logout()
    assert "no-store" in client.get(shared)["Cache-Control"]


def test_a_page_that_sets_its_own_cache_control_keeps_it(client, payment):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.get("Cache-Control") != "private, no-store"


def test_pages_of_nobody_in_particular_are_left_alone(client, catalogue):
    response = client.get("/offer/")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
