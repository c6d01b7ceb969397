import html
import re

import pytest

from providers.models import Provider
from tests.factories import UserFactory
from tests.staff import staff_login
from wallets.models import Account

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    staff_login(client, admin)  # the admin needs a second factor
    return admin


def text(response):
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split()))


def change_url(provider):
    return f"/admin/providers/provider/{provider.pk}/change/"


def test_try_an_account_passes(client, staff, catalogue):
    page = text(client.get(change_url(catalogue["dostek"]), {"try_account": "0123 4567 8901 23"}))
    assert "Проверить счёт" in page
    assert "Русский: подходит → 01234567890123" in page
    assert "Кыргызча: подходит → 01234567890123" in page


def test_try_an_account_fails_with_the_hints(client, staff, catalogue):
    dostek = catalogue["dostek"]
    page = text(client.get(change_url(dostek), {"try_account": "23202199012345"}))
    assert "Русский: не подходит" in page
    assert "(32.02.1990)" in page
    assert dostek.account_hint_ru in page and dostek.account_hint_ky in page


def test_changelist_search_filter_and_order(client, staff, catalogue):
    page = text(client.get("/admin/providers/provider/", {"q": "hoster"}))
    assert "Hoster.kg" in page and "DosTek group" not in page
    other = catalogue["dostek"].category
    page = text(client.get("/admin/providers/provider/", {"category__id__exact": other.pk}))
    assert "Оплата ЭЦП" in page and "MegaCom" not in page
    assert client.get("/admin/providers/provider/", {"o": "4"}).status_code == 200
    assert client.get("/admin/providers/category/").status_code == 200


def test_adding_a_provider_opens_its_ledger_account(client, staff, catalogue):
    other = catalogue["dostek"].category
    response = client.post(
        "/admin/providers/provider/add/",
        {
            "category": other.pk,
            "slug": "new-isp",
            "name_ru": "Новый провайдер",
            "name_ky": "Жаңы провайдер",
            "ussd_name": "",
            "logo": "",
            "position": "100",
            "account_label_ru": "Лицевой счёт",
            "account_label_ky": "Жеке эсеп",
            "account_hint_ru": "8 цифр",
            "account_hint_ky": "8 сан",
            "account_regex": r"\d{8}",
            "account_validators": "",
            "min_amount": "10",
            "max_amount": "5000,50",
            "fee_fixed": "0",
            "fee_percent": "0.5",
            "gateway": "internal",
            "ussd_number": "",
            "active": "on",
        },
    )
    assert response.status_code == 302, text(response)[-2000:]
    provider = Provider.objects.get(slug="new-isp")
    assert (provider.min_amount, provider.max_amount, provider.fee_fixed) == (10_00, 5_000_50, 0)
    assert provider.account.kind == Account.Kind.PROVIDER
    assert provider.account.code == "provider:new-isp"


def test_admin_refuses_unknown_checks_and_bad_ranges(client, staff, catalogue):
    dostek = catalogue["dostek"]
    data = {
        "category": dostek.category_id,
        "slug": dostek.slug,
        "name_ru": dostek.name_ru,
        "name_ky": dostek.name_ky,
        "position": "10",
        "account_label_ru": "x",
        "account_label_ky": "x",
        "account_regex": "(\\d",
        "account_validators": "inn_date, magic",
        "min_amount": "100",
        "max_amount": "10",
        "fee_fixed": "abc",
        "fee_percent": "0",
        "gateway": "internal",
    }
    response = client.post(change_url(dostek), data)
    assert response.status_code == 200
    page = text(response)
    assert "magic" in page
    dostek.refresh_from_db()
    assert dostek.account_validators == "inn_date"


def test_payment_admin_is_read_only(client, staff):
    assert client.get("/admin/billing/payment/").status_code == 200
    assert client.get("/admin/billing/payment/add/").status_code == 403
