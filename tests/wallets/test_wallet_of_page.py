"""wallets.services.wallet_of_page: a page's wallet, account and bell count in one statement."""

import datetime

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Notification
from notifications.services import notify
from tests.factories import UserFactory, make_wallet, system
from wallets import ledger
from wallets.models import Account, Wallet
from wallets.services import wallet_of_page

pytestmark = pytest.mark.django_db


def _request(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def test_one_statement_loads_the_wallet_its_account_and_the_unread_count():
    wallet = make_wallet(balance=250_00)
    ledger.transfer(
        debit=wallet.account, credit=system(Account.Kind.FEES), amount=1_00, key="spent"
    )
    for n in range(3):
        notify(user=wallet.user, kind=Notification.Kind.OTHER, text=f"note {n}")
    Notification.objects.filter(text="note 0").update(read_at=datetime.datetime.now(datetime.UTC))
    request = _request(wallet.user)
    with CaptureQueriesContext(connection) as queries:
        found = wallet_of_page(request)
        # Everything a page reads of it, with no further statement.
        seen = (
            found.number,
            found.account.balance,
            found.account.out_day,
            found.account.day_key,
            found.account.created_at,
            found.created_at,
            found.user.phone,
            found.level_id,
        )
    assert len(queries.captured_queries) == 1
    expected = Wallet.objects.select_related("account").get(pk=wallet.pk)
    assert seen == (
        expected.number,
        249_00,
        expected.account.out_day,
        expected.account.day_key,
        expected.account.created_at,
        expected.created_at,
        wallet.user.phone,
        expected.level_id,
    )
    assert isinstance(found.account.day_key, datetime.date)
    assert found.account.created_at.tzinfo is not None
    assert found.account.wallet is found
    assert request.notifications_unread == 2  # the read one is not counted


def test_another_users_notifications_are_not_counted():
    mine, theirs = make_wallet(), make_wallet()
    notify(user=theirs.user, kind=Notification.Kind.OTHER, text="not mine")
    request = _request(mine.user)
    assert wallet_of_page(request).pk == mine.pk
    assert request.notifications_unread == 0


def test_a_user_without_a_wallet_gets_one_opened():
    user = UserFactory()
    request = _request(user)
    wallet = wallet_of_page(request)
    assert Wallet.objects.get(user=user).pk == wallet.pk
    assert wallet.account.kind == Account.Kind.WALLET


def test_the_cabinet_shows_the_bell_without_a_count_of_its_own(client):
    wallet = make_wallet()
    for n in range(4):
        notify(user=wallet.user, kind=Notification.Kind.OTHER, text=f"note {n}")
    client.force_login(wallet.user)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("wallets:home")).content.decode()
    assert '<span class="count">4</span>' in html
    note = Notification._meta.db_table
    own_counts = [
        q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)")
    ]
    assert own_counts == []
    assert sum(note in q["sql"] for q in queries.captured_queries) == 1
