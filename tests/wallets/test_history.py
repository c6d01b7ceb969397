"""The one history page (/cabinet/history/), its CSV statement, the cabinet home's recent
operations, and the old history URLs' redirects."""

import csv
import html
import io
import itertools
import re

import pytest
from django.urls import reverse

from billing import services as billing
from cards import services as cards
from cards.models import Card, TopUp
from providers import gateways
from qr import services as qr
from tests.billing.helpers import INN, text
from tests.billing.test_limits import FailingGateway as RetryGateway  # «try later»: pending
from tests.factories import ProviderFactory, make_payment
from tests.qr.payments import merchant
from tests.transfers.helpers import person, send
from wallets import ledger

pytestmark = pytest.mark.django_db

_n = itertools.count()


def _pending(wallet, provider, amount):
    return billing.payment_create(
        wallet=wallet,
        provider=provider,
        account=INN,
        amount=amount,
        token=billing.payment_token_new(wallet=wallet),
    )


def _card_topup(wallet, amount):
    """A card top-up the acquirer approved: the TopUp row and its ledger credit."""
    n = next(_n)
    card = Card.objects.create(
        wallet=wallet,
        name="Зарплата",
        brand=Card.Brand.ELCART,
        masked=f"941701******{n:04d}",
        exp_month=12,
        exp_year=2030,
        fingerprint=f"fp{n}",
        status=Card.Status.LINKED,
    )
    topup = TopUp.objects.create(wallet=wallet, card=card, amount=amount, token=f"t{n}")
    ledger.move([cards.credit_leg(topup)])
    return topup


def every_kind(alice, bob, monkeypatch, water, shop):
    """One operation of every kind in Alice's wallet, oldest first."""
    done = make_payment(wallet=alice, provider=water, amount=100_00)
    with monkeypatch.context() as m:
        m.setitem(gateways.GATEWAYS, "internal", RetryGateway)
        failed = _pending(alice, water, 7_00)
        billing.payment_fail(payment=failed, reason="closed")
        pending = _pending(alice, water, 3_00)
    link = qr.merchant_link(shop)
    quote = qr.qr_quote(wallet=alice, scan=qr.scan_resolve(link), amount=12_00)
    paid_by_qr = qr.qr_payment_create(
        wallet=alice, link=link, amount=12_00, token=qr.qr_token_new(wallet=alice, quote=quote)
    )
    sent = send(alice, bob, 42_00)
    received = send(bob, alice, 2_50)
    topup = _card_topup(alice, 55_00)
    return {
        "done": done,
        "failed": failed,
        "pending": pending,
        "qr": paid_by_qr,
        "sent": sent,
        "received": received,
        "topup": topup,
    }


@pytest.fixture
def world(client, monkeypatch):
    alice = person(balance=1_000_00, name="Алия Садыкова")
    bob = person(balance=100_00, name="Бакыт Осмонов")
    water = ProviderFactory(name_ru="Водоканал", logo="logos/vodokanal.svg")
    shop = merchant(name_ru="Кафе Арзу")
    ops = every_kind(alice, bob, monkeypatch, water, shop)
    client.force_login(alice.user)
    return alice, bob, water, shop, ops


def _items(page_html):
    """The operations list's items, each as its visible text."""
    ops = page_html.split('<ul class="ops list">', 1)[1].split("</ul>", 1)[0]
    ops = re.sub(r"(?s)<svg.*?</svg>", "", ops)
    ops = re.sub(r'<span class="money">([^<]*)</span>', r"\1", ops)
    return [" ".join(re.sub(r"<[^>]+>", " ", li).split()) for li in ops.split("<li>")[1:]]


def test_history_shows_every_kind_with_its_badge_name_and_receipt(client, world):
    alice, bob, water, shop, ops = world
    page = client.get("/cabinet/history/").content.decode()
    items = [html.unescape(item) for item in _items(page)]
    assert items == [
        f"Пополнение с карты {ops['topup'].card.short} {_when(ops['topup'])} +55,00 сом проведён",
        f"Перевод от Бакыт О. {_masked(bob)} {_when(ops['received'])} +2,50 сом проведён",
        f"Перевод получателю Бакыт О. {_masked(bob)} {_when(ops['sent'])} -42,00 сом проведён",
        f"Кафе Арзу платёж по QR-коду {_when(ops['qr'])} -12,00 сом проведён",
        f"Водоканал {INN} {_when(ops['pending'])} -3,00 сом в обработке",
        f"Водоканал Возврат · {INN} {_when(ops['failed'])} +7,00 сом возврат",
        f"Водоканал {INN} {_when(ops['failed'])} -7,00 сом отклонён",
        f"Водоканал {INN} {_when(ops['done'])} -100,00 сом проведён",
        f"Пополнение test {_when_first(alice)} +1 000,00 сом проведён",
    ]
    # One tap to each receipt; the provider's logo instead of a blank square.
    for key in ("done", "failed", "pending", "qr", "sent", "received"):
        assert f'href="{ops[key].get_absolute_url()}"' in page
    assert f'href="{reverse("cards:topup_receipt", args=[ops["topup"].pk])}"' in page
    ops_html = page.split('<ul class="ops list">', 1)[1]
    assert ops_html.count(">В</text></svg>") == 4  # Водоканал's logo, inline, on its rows


def _when(op):
    from django.utils import timezone

    return timezone.localtime(op.created_at).strftime("%d.%m.%Y %H:%M")


def _when_first(wallet):
    from wallets.models import Transfer

    first = Transfer.objects.filter(credit=wallet.account).order_by("created_at").first()
    return _when(first)


def _masked(wallet):
    from transfers.models import masked_number

    return masked_number(wallet.number)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("payment", ["-3,00", "-7,00", "-100,00"]),
        ("qr", ["-12,00"]),
        ("sent", ["-42,00"]),
        ("received", ["+2,50"]),
        ("topup", ["+55,00", "+1 000,00"]),
        ("refund", ["+7,00"]),
    ],
)
def test_history_filters_by_kind(client, world, kind, expected):
    page = client.get("/cabinet/history/", {"kind": kind}).content.decode()
    amounts = [re.search(r"([+-][\d  ]+,\d\d) сом", html.unescape(i))[1] for i in _items(page)]
    assert [a.replace("\xa0", " ") for a in amounts] == expected


def test_history_filters_by_provider_and_period_and_refuses_bad_filters(client, world):
    alice, bob, water, shop, ops = world
    other = make_payment(wallet=alice, provider=ProviderFactory(name_ru="Свет"), amount=9_00)
    only_water = client.get("/cabinet/history/", {"provider": water.pk}).content.decode()
    assert len(_items(only_water)) == 4 and "9,00 сом" not in only_water
    assert "Водоканал" in only_water and "Кафе Арзу" not in only_water
    both = client.get("/cabinet/history/", {"provider": other.provider_id, "kind": "payment"})
    assert len(_items(both.content.decode())) == 1
    future = client.get("/cabinet/history/", {"date_from": "2999-01-01"}).content.decode()
    assert "Операций пока нет." in future
    bad = html.unescape(text(client.get("/cabinet/history/", {"kind": "loan"})))
    assert "Выберите корректный вариант" in bad and "Операций пока нет." in bad
    assert client.get("/cabinet/history/", {"provider": "x"}).status_code == 200


def test_history_query_count_is_constant_in_the_number_of_rows(
    client, world, monkeypatch, django_assert_num_queries
):
    alice, bob, water, shop, ops = world
    # Session, user, the wallet with the bell's unread count (one statement), the page's
    # count and rows, one query for each kind of operation on it (payments, transfers, QR,
    # card top-ups) and the services of the filter.
    client.get("/cabinet/history/")  # the session's idle timeout refreshed (once a minute)
    with django_assert_num_queries(10):
        response = client.get("/cabinet/history/")
    assert len(_items(response.content.decode())) == 9
    for _ in range(3):
        every_kind(alice, bob, monkeypatch, water, shop)
    with django_assert_num_queries(10):
        page = client.get("/cabinet/history/").content.decode()
    assert len(_items(page)) == 25 and "Страница 1 из 2" in page


def test_the_statement_has_every_operation_with_the_page_filters(client, world):
    alice, bob, water, shop, ops = world
    response = client.get("/cabinet/history/statement.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][1:3] == ["Код платежа", "Услуга"]  # the columns as before (billing)
    assert [row[1:] for row in rows[1:]] == [
        ["", "Пополнение с карты", ops["topup"].card.short, "55,00", "0,00", "55,00", "проведён"],
        [ops["received"].display_code, "Перевод от Бакыт О.", _masked(bob)]
        + ["2,50", "0,00", "2,50", "проведён"],
        [ops["sent"].display_code, "Перевод получателю Бакыт О.", _masked(bob)]
        + ["42,00", "0,00", "42,00", "проведён"],
        [ops["qr"].display_code, "Кафе Арзу", "платёж по QR-коду"]
        + ["12,00", "0,00", "12,00", "оплачено"],
        [ops["pending"].display_code, "Водоканал", INN, "3,00", "0,00", "3,00", "в обработке"],
        [ops["failed"].display_code, "Водоканал", INN, "7,00", "0,00", "7,00", "возврат"],
        [ops["failed"].display_code, "Водоканал", INN, "7,00", "0,00", "7,00", "не прошёл"],
        [ops["done"].display_code, "Водоканал", INN, "100,00", "0,00", "100,00", "проведён"],
        ["", "Пополнение", "test", "1 000,00", "0,00", "1 000,00", "проведён"],
    ]
    refunds = client.get("/cabinet/history/statement.csv", {"kind": "refund"})
    rows = list(csv.reader(io.StringIO(refunds.content.decode("utf-8-sig"))))
    assert [row[-1] for row in rows[1:]] == ["возврат"]


def test_the_old_urls_redirect_keeping_the_query(client, world):
    alice, bob, water, shop, ops = world
    old = client.get("/pay/history/", {"provider": water.pk, "date_from": "2026-01-01"})
    assert old.status_code == 301
    assert old["Location"] == f"/cabinet/history/?provider={water.pk}&date_from=2026-01-01"
    assert reverse("billing:history") == "/pay/history/"
    csv_old = client.get("/pay/history/statement.csv?kind=refund")
    assert csv_old.status_code == 301
    assert csv_old["Location"] == "/cabinet/history/statement.csv?kind=refund"
    assert reverse("billing:statement") == "/pay/history/statement.csv"
    assert client.get("/pay/history/", follow=True).redirect_chain == [("/cabinet/history/", 301)]


def test_cabinet_home_balance_quick_actions_and_recent_operations(client, world):
    alice, bob, water, shop, ops = world
    page = client.get("/cabinet/").content.decode()
    balance = page.index('class="balance"')
    quick = page.index('class="quick"')
    recent = page.index('id="ops-h"')
    assert balance < quick < recent
    shown = html.unescape(text(client.get("/cabinet/")))
    for caption in ("Оплатить", "Перевести", "QR", "Пополнить"):
        assert caption in shown
    for href in ("/services/", "/transfers/", "/qr/", "/cabinet/topup/", "/cabinet/history/"):
        assert f'href="{href}"' in page
    items = [html.unescape(i) for i in _items(page)]
    assert len(items) == 9
    assert items[4].endswith("в обработке") and items[6].endswith("отклонён")
    assert f'href="{ops["pending"].get_absolute_url()}"' in page


def test_cabinet_home_query_count_is_fixed(client, world, monkeypatch, django_assert_num_queries):
    alice, bob, water, shop, ops = world
    billing.favourite_create(user=alice.user, payment=ops["done"], name="Вода дома")
    client.get("/cabinet/")  # the session's idle timeout refreshed (once a minute)
    # Session, user, the wallet with the bell's unread count and the sizes of the two lists
    # (one statement), the favourites (the cashier desks: none, no statement); the recent
    # operations as rendered by the request before.
    with django_assert_num_queries(4):
        page = client.get("/cabinet/").content.decode()
    assert "Вода дома" in page and len(_items(page)) == 9
    every_kind(alice, bob, monkeypatch, water, shop)
    # The history changed: the last ten ledger rows and one query for each kind of
    # operation among them (payments, transfers, QR, card top-ups) besides.
    with django_assert_num_queries(9):
        page = client.get("/cabinet/").content.decode()
    assert len(_items(page)) == 10
    with django_assert_num_queries(4):
        assert _items(client.get("/cabinet/").content.decode()) == _items(page)


def test_topup_page_names_the_ways_of_seed_001(client, world):
    alice = world[0]
    shown = html.unescape(text(client.get("/cabinet/topup/")))
    assert "отделения банка KICB" in shown
    assert "терминалы KICB, Мобильник, QIWI (Киви)" in shown
    assert 'href="/cards/topup/"' in client.get("/cabinet/topup/").content.decode()
    client.cookies["kapchyk_language"] = "ky"
    assert "KICB" in text(client.get("/cabinet/topup/"))
    del alice


def test_a_stranger_sees_none_of_it(client, world):
    alice, bob, water, shop, ops = world
    client.force_login(person().user)
    page = client.get("/cabinet/history/").content.decode()
    assert "Водоканал" not in page and "Операций пока нет." in page
    statement = client.get("/cabinet/history/statement.csv").content.decode("utf-8-sig")
    assert ops["done"].display_code not in statement and "Водоканал" not in statement
