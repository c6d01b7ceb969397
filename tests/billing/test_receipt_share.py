"""The receipt's «Повторить» (the form, filled in) and its shareable, read-only view."""

import html
import re

import pytest
from django.core import signing

from billing.views import SHARE_SALT
from tests.factories import ProviderFactory, make_payment, make_wallet
from transfers.models import masked_number

from .helpers import INN, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment(client):
    wallet = make_wallet(balance=1_000_00)
    client.force_login(wallet.user)
    provider = ProviderFactory(name_ru="Водоканал", fee_fixed=1_50)
    return make_payment(wallet=wallet, provider=provider, amount=150_50)


def _share_link(client, payment) -> str:
    page = client.get(payment.get_absolute_url()).content.decode()
    return re.search(r'href="http://testserver(/pay/shared/[^"]+/)"', page)[1]


def test_repeat_opens_the_form_filled_with_provider_account_and_amount(client, payment):
    page = client.get(payment.get_absolute_url()).content.decode()
    repeat = re.search(r'<a class="button" href="([^"]+)">Повторить</a>', page)[1]
    assert html.unescape(repeat) == f"/pay/{payment.provider.slug}/?account={INN}&amount=150%2C50"
    form = client.get(html.unescape(repeat)).content.decode()
    assert f'value="{INN}"' in form and 'value="150,50"' in form


def test_no_repeat_for_a_provider_that_is_switched_off(client, payment):
    payment.provider.active = False
    payment.provider.save()
    assert "Повторить" not in text(client.get(payment.get_absolute_url()))


def test_the_shared_receipt_shows_the_receipt_only_to_anyone_with_the_link(client, payment):
    link = _share_link(client, payment)
    client.logout()
    response = client.get(link)
    assert response.status_code == 200
    shown = html.unescape(text(response))
    for value in (payment.display_code, "Водоканал", INN, "150,50 сом", "152,00 сом", "проведён"):
        assert value in shown
    # Nothing beyond the receipt: the wallet number masked, no menu, no templates, no links
    # into the cabinet.
    assert masked_number(payment.wallet.number) in shown
    assert payment.wallet.number[-6:] not in response.content.decode()
    assert "Сохранить в Избранное" not in shown and "Повторить" not in shown
    assert 'href="/cabinet/' not in response.content.decode().split("<main", 1)[1]
    assert '<meta name="robots" content="noindex">' in response.content.decode()


def test_a_stranger_with_the_plain_code_or_a_forged_token_gets_404(client, payment):
    client.logout()
    make_wallet()
    assert client.get(f"/pay/shared/{payment.code}/").status_code == 404
    forged = signing.dumps(payment.code, salt="another salt")
    assert client.get(f"/pay/shared/{forged}/").status_code == 404
    unsigned = signing.dumps(payment.code, salt=SHARE_SALT)[:-2] + "xx"
    assert client.get(f"/pay/shared/{unsigned}/").status_code == 404
    # Signed in as someone else: the receipt itself is 404, as before.
    client.force_login(make_wallet().user)
    assert client.get(payment.get_absolute_url()).status_code == 404


def test_the_shared_receipt_in_kyrgyz(client, payment):
    link = _share_link(client, payment)
    client.logout()
    client.cookies["kapchyk_language"] = "ky"
    assert payment.display_code in html.unescape(text(client.get(link)))
