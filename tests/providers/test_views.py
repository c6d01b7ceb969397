import html
import re

import pytest

from providers.models import Category
from tests.factories import CategoryFactory, ProviderFactory, make_wallet

pytestmark = pytest.mark.django_db


def text(response):
    page = re.sub(r"</?(span|a|strong|b|em)\b[^>]*>", "", response.content.decode())
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


@pytest.fixture
def user(client):
    wallet = make_wallet()
    client.force_login(wallet.user)
    return wallet.user


def test_catalogue_needs_sign_in(client):
    assert client.get("/services/").status_code == 302


def test_services_lists_categories_in_order(client, user, catalogue):
    page = text(client.get("/services/"))
    names = [c.name_ru for c in Category.objects.ordered()]
    assert [page.index(n) for n in names] == sorted(page.index(n) for n in names)
    assert "Другие 4 услуги" in page
    assert "Мобильная связь 3 услуги" in page
    assert "Интернет и ТВ 4 услуги" in page


def test_category_lists_its_active_providers(client, user, catalogue):
    catalogue["hoster"].active = False
    catalogue["hoster"].save()
    response = client.get("/services/other/")
    page = text(response)
    assert "DosTek group" in page and "Оплата ЭЦП" in page
    assert "Hoster.kg" not in page
    assert "Saima" not in page
    assert "/static/logos/dostek" in response.content.decode()
    assert client.get("/services/nope/").status_code == 404


def test_category_in_kyrgyz(client, user, catalogue):
    client.cookies["kapchyk_language"] = "ky"
    page = text(client.get("/services/"))
    assert "Башкалар" in page and "Мобилдик байланыш" in page


@pytest.mark.parametrize(
    "query, found",
    [
        ("dostek", ["DosTek group"]),
        ("DOSTEK", ["DosTek group"]),
        ("достэк", ["DosTek group"]),
        ("эцп", ["Оплата ЭЦП"]),
        ("түндүк", ["Госуслуги (Түндүк)", "Северэлектро"]),
        ("водоканал", ["Бишкекводоканал"]),
    ],
)
def test_search_by_name_in_either_language(client, user, catalogue, query, found):
    page = text(client.get("/services/", {"q": query}))
    section = page.split("Найдено по запросу", 1)[1].split("Категории", 1)[0]
    for name in found:
        assert name in section
    assert "Hoster.kg" not in section


def test_search_finds_nothing_politely(client, user, catalogue):
    page = text(client.get("/services/", {"q": "zzzz"}))
    assert "Ничего не найдено." in page


def test_search_ignores_inactive(client, user, catalogue):
    catalogue["dostek"].active = False
    catalogue["dostek"].save()
    page = text(client.get("/services/", {"q": "dostek"}))
    assert "Ничего не найдено." in page


def test_query_count_is_constant_with_500_providers(client, user, django_assert_max_num_queries):
    categories = CategoryFactory.create_batch(5)
    other = CategoryFactory(slug="many")
    ProviderFactory(category=other, name_ru="Поиск первый")
    with django_assert_max_num_queries(10) as small_list:
        client.get("/services/")
    with django_assert_max_num_queries(10) as small_category:
        client.get("/services/many/")
    with django_assert_max_num_queries(10) as small_search:
        client.get("/services/", {"q": "поиск"})
    for n in range(500):
        ProviderFactory(category=other if n % 2 else categories[n % 5], name_ru=f"Поиск {n}")
    with django_assert_max_num_queries(len(small_list.captured_queries)):
        client.get("/services/")
    with django_assert_max_num_queries(len(small_category.captured_queries)):
        page = client.get("/services/many/")
    assert text(page).count("Поиск") == 251
    with django_assert_max_num_queries(len(small_search.captured_queries)):
        client.get("/services/", {"q": "поиск"})
