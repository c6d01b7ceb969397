"""Every URL the resolver knows answers a GET from a visitor, a wallet owner and staff with
a page, a redirect or a refusal — never a server error (sample values for parameters)."""

import pytest
from django.test import Client

from tests.factories import UserFactory, make_wallet
from tests.security.urls import all_routes
from tests.staff import staff_login
from wallets.health import ledger_check_record

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("who", ["visitor", "wallet owner", "staff with a second factor"])
def test_no_url_answers_a_get_with_a_server_error(who, catalogue):
    client = Client(raise_request_exception=False)
    ledger_check_record()  # a sound ledger, checked: /healthz/ledger answers 200 (503 is its alarm)
    if who == "wallet owner":
        client.force_login(make_wallet(balance=10_00).user)
    elif who == "staff with a second factor":
        user = UserFactory(is_staff=True, is_superuser=True)
        make_wallet(user=user)
        staff_login(client, user)
    errors = []
    for route in all_routes():
        url = route.url()
        status = client.get(url).status_code
        if status >= 500:
            errors.append((route.label, url, status))
    assert errors == []
