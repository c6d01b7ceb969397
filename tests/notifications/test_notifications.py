import pytest
from django.db import transaction
from django.urls import reverse

from notifications.models import Notification
from notifications.services import notify, unread_count
from tests.factories import UserFactory, make_wallet
from wallets.models import SmsMessage

pytestmark = pytest.mark.django_db


def _worded():
    from django.utils.translation import gettext

    return gettext("Notifications")


def test_notify_words_the_text_in_the_owners_language_and_sends_no_sms_unless_asked():
    ky = UserFactory(language="ky")
    ru = UserFactory(language="ru")
    first = notify(user=ky, kind=Notification.Kind.OTHER, text=_worded)
    second = notify(user=ru, kind=Notification.Kind.OTHER, text=_worded, url="/x/")
    assert first.text == "Билдирүүлөр"
    assert second.text == "Уведомления" and second.url == "/x/"
    assert first.read_at is None and first.unread
    assert SmsMessage.objects.count() == 0


def test_notify_with_sms_queues_the_same_text_to_the_owners_number():
    user = UserFactory()
    notify(user=user, kind=Notification.Kind.OTHER, text="Code 1234", sms=True, secrets=["1234"])
    sms = SmsMessage.objects.get()
    assert sms.phone == user.phone and sms.text == "Code 1234"


def test_notify_commits_with_the_callers_transaction_or_not_at_all():
    user = UserFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(user=user, kind=Notification.Kind.OTHER, text="lost", sms=True)
        raise RuntimeError
    assert Notification.objects.count() == 0
    assert SmsMessage.objects.count() == 0


def test_bell_shows_the_unread_count_on_signed_in_pages_with_one_query(
    client, django_assert_num_queries
):
    wallet = make_wallet()
    for n in range(3):
        notify(user=wallet.user, kind=Notification.Kind.OTHER, text=f"note {n}")
    client.force_login(wallet.user)
    html = client.get(reverse("wallets:home")).content.decode()
    assert '<span class="count">3</span>' in html
    assert unread_count(user=wallet.user) == 3


def test_bell_is_absent_for_a_visitor(client):
    html = client.get(reverse("account_login")).content.decode()
    assert 'class="bell"' not in html


def test_list_is_owner_only_newest_first_and_marks_read(client, django_assert_max_num_queries):
    alice, bob = UserFactory(), UserFactory()
    for n in range(5):
        notify(user=alice, kind=Notification.Kind.OTHER, text=f"alice {n}")
    notify(user=bob, kind=Notification.Kind.OTHER, text="bob secret")
    client.force_login(alice)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("notifications:list"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("alice 4") < html.index("alice 0")
    assert "bob secret" not in html
    assert html.count('class="badge"') == 5  # shown as new this once
    assert '<span class="count">' not in html  # the bell already counts them read
    assert unread_count(user=alice) == 0
    assert unread_count(user=bob) == 1
    again = client.get(reverse("notifications:list")).content.decode()
    assert 'class="badge"' not in again


def test_list_needs_sign_in(client):
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_list_is_paginated_and_only_the_page_shown_is_marked_read(client):
    user = UserFactory()
    for n in range(35):
        notify(user=user, kind=Notification.Kind.OTHER, text=f"n{n}")
    client.force_login(user)
    client.get(reverse("notifications:list"))
    assert unread_count(user=user) == 5
    client.get(reverse("notifications:list") + "?page=2")
    assert unread_count(user=user) == 0
