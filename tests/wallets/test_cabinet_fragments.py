"""The cabinet renders what does not change once: the chrome once per process and language,
the recent operations once per version of the wallet's history (Account.version). Whatever
the history shows must still show at the next request: a new operation, a payment that
settled, the other language; favourites and cashier desks are read live."""

import html

import pytest

from billing import services as billing
from qr.models import Merchant
from tests.factories import UserFactory
from tests.qr.payments import merchant
from tests.transfers.helpers import person, send
from tests.wallets import test_history
from wallets import ledger
from wallets.models import Account

pytestmark = pytest.mark.django_db

world = test_history.world  # the fixture: one operation of every kind in Alice's wallet
_items = test_history._items


def _cabinet(client):
    response = client.get("/cabinet/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_rendered_list_is_reused_until_the_history_changes(
    client, world, django_assert_num_queries
):
    alice, bob, water, shop, ops = world
    first = _cabinet(client)
    # Session, user, and the wallet with the bell's count and the sizes of its two lists
    # (both empty): the recent operations are not read again.
    with django_assert_num_queries(3):
        assert _items(_cabinet(client)) == _items(first)
    send(bob, alice, 1_23)
    items = [html.unescape(i) for i in _items(_cabinet(client))]
    assert items[0].startswith("Перевод от Бакыт О.") and "+1,23 сом проведён" in items[0]
    assert len(items) == 10


def test_a_payment_that_settles_shows_succeeded_at_once(client, world):
    alice, bob, water, shop, ops = world
    pending = [i for i in map(html.unescape, _items(_cabinet(client))) if "-3,00 сом" in i]
    assert pending and pending[0].endswith("в обработке")
    version = Account.objects.get(pk=alice.account_id).version
    # The provider confirms it later: money moves from suspense to the provider, none of
    # it the wallet's; the history's version moves all the same.
    billing.payment_succeed(payment=ops["pending"], reference="R-1")
    assert Account.objects.get(pk=alice.account_id).version == version + 1
    settled = [i for i in map(html.unescape, _items(_cabinet(client))) if "-3,00 сом" in i]
    assert settled == [pending[0].replace("в обработке", "проведён")]


def test_each_language_has_its_own_rendering(client, world):
    assert "в обработке" in _cabinet(client)
    client.cookies["kapchyk_language"] = "ky"
    page = _cabinet(client)
    assert "иштетилүүдө" in page and "в обработке" not in page
    assert 'lang="ky"' in page and "Акыркы операциялар" in html.unescape(page)
    client.cookies["kapchyk_language"] = "ru"
    page = _cabinet(client)
    assert "в обработке" in page and "Последние операции" in page


def test_every_movement_moves_the_version_of_each_wallet_it_moves():
    alice, bob = person(balance=10_00), person(balance=0)
    before = {
        a.pk: a.version for a in Account.objects.filter(pk__in=[alice.account_id, bob.account_id])
    }
    ledger.transfer(debit=alice.account, credit=bob.account, amount=1_00, key="v1")
    ledger.transfer(debit=alice.account, credit=bob.account, amount=1_00, key="v1")  # replayed
    after = {a.pk: a.version for a in Account.objects.filter(pk__in=before)}
    assert after == {
        alice.account_id: before[alice.account_id] + 1,
        bob.account_id: before[bob.account_id] + 1,
    }


def test_favourites_and_cashier_desks_show_at_once(client, world):
    alice, bob, water, shop, ops = world
    page = _cabinet(client)
    assert "Избранное" not in page and "Кассир" not in page
    billing.favourite_create(user=alice.user, payment=ops["done"], name="Вода дома")
    desk = merchant(name_ru="Кафе Нарын", cashier=alice)
    page = html.unescape(_cabinet(client))
    assert "Вода дома" in page and "Кассир · Кафе Нарын" in page
    Merchant.objects.filter(pk=desk.pk).update(active=False)
    assert "Кафе Нарын" not in _cabinet(client)


def test_the_chrome_follows_sign_in_and_language(client):
    signed_out = client.get("/accounts/login/").content.decode()
    assert 'class="bell"' not in signed_out and "Выйти" not in signed_out
    user = UserFactory()
    client.force_login(user)
    page = _cabinet(client)
    assert 'class="bell"' in page and 'href="/cabinet/history/"' in page
    client.cookies["kapchyk_language"] = "ky"
    page = html.unescape(_cabinet(client))
    assert 'aria-current="true" lang="ky"' in page and "Колдоо кызматы" in page
    assert "Чыгуу" in page and "Выйти" not in page
