"""Receipt, favourites, history and statement: owner sees them, a stranger gets 404."""

import csv
import datetime
import html
import io

import pytest
from django.utils import timezone

from billing import services
from billing.models import Favourite, Payment
from tests.factories import ProviderFactory, UserFactory, make_payment, make_wallet
from wallets.models import Transfer

from .helpers import INN, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client):
    wallet = make_wallet(balance=10_000_00)
    client.force_login(wallet.user)
    return wallet


@pytest.fixture
def payment(alice):
    return make_payment(wallet=alice, amount=250_00)


@pytest.fixture
def favourite(payment):
    return services.favourite_create(user=payment.wallet.user, payment=payment, name="Офис")


@pytest.fixture
def stranger(client):
    def login():
        bob = make_wallet(balance=100_00)
        client.force_login(bob.user)
        return bob

    return login


def test_receipt_shows_the_payment(client, payment):
    page = html.unescape(text(client.get(payment.get_absolute_url())))
    code = payment.code
    assert f"{code[:4]} {code[4:8]} {code[8:]}" in page
    assert timezone.localtime(payment.created_at).strftime("%d.%m.%Y %H:%M") in page
    assert "Итого 250,00 сом" in page and "Статус проведён" in page


def test_anonymous_is_sent_to_sign_in(client, payment):
    client.logout()
    response = client.get(payment.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_stranger_gets_404_everywhere(client, payment, favourite, stranger):
    bob = stranger()
    assert client.get(payment.get_absolute_url()).status_code == 404
    assert client.post(f"{payment.get_absolute_url()}favourite/", {"name": "x"}).status_code == 404
    assert client.get(favourite.get_absolute_url()).status_code == 404
    assert client.get(f"/pay/favourites/{favourite.pk}/rename/").status_code == 404
    assert (
        client.post(f"/pay/favourites/{favourite.pk}/rename/", {"name": "Моё"}).status_code == 404
    )
    assert client.post(f"/pay/favourites/{favourite.pk}/delete/").status_code == 404
    favourite.refresh_from_db()
    assert favourite.name == "Офис"
    assert "Офис" not in text(client.get("/pay/favourites/"))
    assert "Офис" not in text(client.get("/cabinet/"))
    # Bob's history and statement hold only Bob's payments.
    assert INN not in text(client.get("/cabinet/history/"))
    statement = client.get("/cabinet/history/statement.csv").content.decode()
    assert payment.code not in statement.replace(" ", "")
    assert Favourite.objects.filter(user=bob.user).count() == 0


def test_favourite_rename_and_delete(client, favourite):
    page = text(client.get("/pay/favourites/"))
    assert "Офис" in page and "Переименовать" in page and "Удалить" in page
    form = client.get(f"/pay/favourites/{favourite.pk}/rename/")
    assert 'value="Офис"' in form.content.decode()
    bad = client.post(f"/pay/favourites/{favourite.pk}/rename/", {"name": "   "})
    assert bad.status_code == 200
    renamed = client.post(f"/pay/favourites/{favourite.pk}/rename/", {"name": "Склад"}, follow=True)
    assert "Шаблон переименован." in text(renamed) and "Склад" in text(renamed)
    deleted = client.post(f"/pay/favourites/{favourite.pk}/delete/", follow=True)
    assert "Шаблон удалён." in text(deleted)
    assert not Favourite.objects.exists()
    assert client.get(f"/pay/favourites/{favourite.pk}/delete/").status_code in (404, 405)


def test_favourite_name_errors_stay_on_the_receipt(client, payment):
    response = client.post(f"{payment.get_absolute_url()}favourite/", {"name": ""})
    assert response.status_code == 200
    assert not Favourite.objects.exists()


def test_favourite_of_inactive_provider(client, favourite):
    favourite.provider.active = False
    favourite.provider.save()
    response = client.get(favourite.get_absolute_url(), follow=True)
    assert "Эта услуга сейчас недоступна." in html.unescape(text(response))


def make_history(wallet, when_days_ago, provider, amount):
    """A payment made `when_days_ago` (the history reads the time of its ledger hold)."""
    payment = make_payment(wallet=wallet, provider=provider, amount=amount)
    when = timezone.now() - datetime.timedelta(days=when_days_ago)
    Payment.objects.filter(pk=payment.pk).update(created_at=when)
    Transfer.objects.filter(idempotency_key=payment.ledger_key("hold")).update(created_at=when)
    return payment


def test_history_filters_by_provider_and_period(client, alice):
    water = ProviderFactory(name_ru="Водоканал")
    light = ProviderFactory(name_ru="Электричество")
    make_history(alice, 40, water, 100_00)
    make_history(alice, 5, water, 200_00)
    make_history(alice, 1, light, 300_00)
    page = html.unescape(text(client.get("/cabinet/history/")))
    assert "История" in page
    assert all(a in page for a in ("100,00 сом", "200,00 сом", "300,00 сом"))

    only_water = html.unescape(text(client.get("/cabinet/history/", {"provider": water.pk})))
    assert "100,00 сом" in only_water and "200,00 сом" in only_water
    assert "300,00 сом" not in only_water

    since = (timezone.localdate() - datetime.timedelta(days=10)).isoformat()
    recent = html.unescape(text(client.get("/cabinet/history/", {"date_from": since})))
    assert "100,00 сом" not in recent and "200,00 сом" in recent and "300,00 сом" in recent

    both = html.unescape(
        text(client.get("/cabinet/history/", {"date_from": since, "provider": water.pk}))
    )
    assert "200,00 сом" in both and "300,00 сом" not in both and "100,00 сом" not in both


def test_history_bad_filter_says_so(client, alice):
    make_payment(wallet=alice)
    bad = html.unescape(text(client.get("/cabinet/history/", {"provider": "999999"})))
    assert "100,00 сом" not in bad
    reversed_period = client.get(
        "/cabinet/history/", {"date_from": "2026-02-01", "date_to": "2026-01-01"}
    )
    assert reversed_period.status_code == 200
    assert client.get("/cabinet/history/", {"date_from": "not-a-date"}).status_code == 200


def test_history_query_count_is_constant(client, alice, django_assert_max_num_queries):
    provider = ProviderFactory()
    for _ in range(3):
        make_payment(wallet=alice, provider=provider, amount=1_00)
    client.get("/cabinet/history/")  # the session's idle timeout refreshed (once a minute)
    with django_assert_max_num_queries(12) as few:
        client.get("/cabinet/history/")
    for _ in range(20):
        make_payment(wallet=alice, provider=ProviderFactory(), amount=1_00)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/cabinet/history/")


def test_statement_csv_for_a_period(client, alice):
    water = ProviderFactory(name_ru="Водоканал", fee_fixed=1_50)
    old = make_history(alice, 40, water, 100_00)
    new = make_history(alice, 2, water, 1_234_50)
    start = (timezone.localdate() - datetime.timedelta(days=10)).isoformat()
    end = timezone.localdate().isoformat()
    response = client.get(
        "/cabinet/history/statement.csv", {"date_from": start, "date_to": end, "kind": "payment"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert start.replace("-", "") in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Дата",
        "Код платежа",
        "Услуга",
        "Лицевой счёт",
        "Сумма, сом",
        "Комиссия, сом",
        "Итого, сом",
        "Статус",
    ]
    assert rows[1:] == [
        [
            timezone.localtime(Payment.objects.get(pk=new.pk).created_at).strftime(
                "%d.%m.%Y %H:%M"
            ),
            new.display_code,
            "Водоканал",
            INN,
            "1 234,50",
            "1,50",
            "1 236,00",
            "проведён",
        ]
    ]
    assert old.display_code not in response.content.decode()


def test_statement_with_a_bad_period_goes_back_to_the_history(client, alice):
    response = client.get("/cabinet/history/statement.csv", {"date_from": "x"})
    assert response.status_code == 302 and response["Location"] == "/cabinet/history/?date_from=x"


def test_statement_cell_cannot_be_a_formula(client, alice):
    provider = ProviderFactory(account_regex=r".{1,20}")
    make_payment(wallet=alice, provider=provider, account="=1+2")
    content = client.get("/cabinet/history/statement.csv").content.decode("utf-8-sig")
    assert "'=1+2" in content


def test_cabinet_links_the_history(client, alice):
    assert 'href="/cabinet/history/"' in client.get("/cabinet/").content.decode()


def test_favourites_on_cabinet_home_do_not_add_queries(
    client, alice, django_assert_max_num_queries
):
    payment = make_payment(wallet=alice)
    services.favourite_create(user=alice.user, payment=payment, name="Один")
    with django_assert_max_num_queries(20) as few:
        client.get("/cabinet/")
    for n in range(10):
        services.favourite_create(user=alice.user, payment=payment, name=f"Шаблон {n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/cabinet/")
    assert "Шаблон 9" in text(page)


def test_favourite_limit(alice):
    payment = make_payment(wallet=alice)
    for n in range(services.FAVOURITES_PER_USER):
        Favourite.objects.create(
            user=alice.user, provider=payment.provider, account=INN, name=f"f{n}"
        )
    with pytest.raises(Exception) as caught:
        services.favourite_create(user=alice.user, payment=payment, name="лишний")
    assert "50" in str(caught.value)


def test_other_user_sees_no_favourites_of_alice(alice, favourite):
    assert not Favourite.objects.for_user(UserFactory()).exists()
