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


def test_a_payment_page_loads_its_provider_category_and_account_in_one_statement(client, catalogue):
    wallet = make_wallet(balance=100_00)
    client.force_login(wallet.user)
    with CaptureQueriesContext(connection) as queries:
        html = client.get("/pay/hoster/").content.decode()
    hoster = catalogue["hoster"]
    assert hoster.category.name in html and hoster.name in html
    touching = [q["sql"] for q in queries.captured_queries if "providers_" in q["sql"]]
    assert len(touching) == 1
    assert "providers_category" in touching[0] and "wallets_account" in touching[0]


def test_joined_refuses_a_nullable_key():
    from wallets.models import Wallet as W
    from wallets.rows import Joined

    with pytest.raises(ValueError, match="non-null"):
        Joined(W, ["level"], where="t0.id = %s").first([1])


def test_a_receipt_is_the_owners_only_and_counts_the_bell_in_its_one_statement(
    client, catalogue, django_capture_on_commit_callbacks
):
    from billing.models import Payment
    from tests.billing.helpers import confirm_data, next_step

    wallet = make_wallet(balance=100_00)
    client.force_login(wallet.user)
    confirm = next_step(client, catalogue["hoster"], "0012345", "10")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/pay/hoster/confirm/", confirm_data(confirm))
    payment = Payment.objects.get()
    for n in range(2):
        notify(user=wallet.user, kind=Notification.Kind.OTHER, text=f"note {n}")
    unread = Notification.objects.filter(user=wallet.user, read_at__isnull=True).count()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(payment.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert payment.display_code in html and catalogue["hoster"].name in html
    assert f'<span class="count">{unread}</span>' in html
    assert not any(q["sql"].startswith("SELECT COUNT(*)") for q in queries.captured_queries)
    client.force_login(make_wallet().user)  # another person: no such receipt
    assert client.get(payment.get_absolute_url()).status_code == 404
    assert client.get("/receipt/000000000000/").status_code == 404
