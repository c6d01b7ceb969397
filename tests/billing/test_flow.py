"""The web flow of the instructions (flows.md A): Услуги → Другие → DosTek group → Далее →
Оплатить → receipt, SMS; through the test client, in Russian."""

import html

import pytest

from billing.models import Favourite, Payment
from tests.factories import make_wallet
from wallets import ledger
from wallets.models import Account, SmsMessage, Transfer

from .helpers import INN, confirm_data, hidden, next_step, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def wallet(client):
    wallet = make_wallet(balance=5_000_00)
    client.force_login(wallet.user)
    return wallet


def test_pay_dostek_from_the_catalogue(
    client, wallet, catalogue, django_capture_on_commit_callbacks
):
    dostek = catalogue["dostek"]
    page = text(client.get("/services/"))
    assert "Услуги" in page and "Другие" in page

    page = client.get("/services/other/")
    assert f'href="/pay/{dostek.slug}/"' in page.content.decode()
    assert all(name in text(page) for name in ("DosTek group", "Оплата ЭЦП", "Hoster.kg"))

    form = client.get("/pay/dostek/")
    assert "ИНН компании" in text(form) and "Далее" in text(form)
    assert "5 000,00 сом" in html.unescape(text(form))

    confirm = next_step(client, dostek, "0123 4567 8901 23", "150,50")
    page = html.unescape(text(confirm))
    assert "Проверьте платёж" in page
    for shown in (INN, "150,50 сом", "Комиссия 0,00 сом", "Итого 150,50 сом", "4 849,50 сом"):
        assert shown in page
    assert "Назад" in page and "Оплатить" in page
    assert not Payment.objects.exists()  # «Далее» saves nothing

    back = client.post("/pay/dostek/confirm/", confirm_data(confirm, action="back"))
    assert hidden(back, "account") == INN and hidden(back, "amount") == "150,50"
    assert "Далее" in text(back)

    data = confirm_data(confirm)
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post("/pay/dostek/confirm/", data)
    payment = Payment.objects.get()
    assert paid.status_code == 302 and paid["Location"] == f"/pay/receipt/{payment.code}/"
    assert (payment.status, payment.account, payment.amount, payment.fee, payment.total) == (
        "succeeded",
        INN,
        150_50,
        0,
        150_50,
    )

    receipt = html.unescape(text(client.get(paid["Location"])))
    for shown in (
        "Квитанция об оплате",
        "Платёж проведён.",
        f"Код платежа {payment.display_code}",
        "DosTek group",
        f"ИНН компании {INN}",
        "Сумма 150,50 сом",
        "Комиссия 0,00 сом",
        "Итого 150,50 сом",
        "Статус проведён",
        "Печать",
    ):
        assert shown in receipt

    assert ledger.balance_of(wallet.account) == 4_849_50
    assert ledger.balance_of(dostek.account) == 150_50
    assert ledger.balance_of(ledger.system_account(Account.Kind.SUSPENSE)) == 0
    rows = list(
        Transfer.objects.exclude(kind="cashin")
        .order_by("id")
        .values_list("kind", "debit_id", "credit_id", "amount", "memo")
    )
    suspense = ledger.system_account(Account.Kind.SUSPENSE).pk
    memo = f"DosTek group {INN}"
    assert rows == [
        ("payment_hold", wallet.account_id, suspense, 150_50, memo),
        ("payment_settle", suspense, dostek.account_id, 150_50, memo),
    ]
    assert ledger.check() == []
    assert list(SmsMessage.objects.values_list("phone", "text")) == [
        (
            wallet.number,
            f"Капчык: оплачено 150,50 сом, DosTek group, счёт {INN}. "
            f"Код платежа {payment.display_code}.",
        )
    ]

    # A double click, a refresh of the POST or a back-button resubmit: the same receipt.
    for _ in range(3):
        again = client.post("/pay/dostek/confirm/", data)
        assert again["Location"] == f"/pay/receipt/{payment.code}/"
    assert Payment.objects.count() == 1
    assert ledger.balance_of(wallet.account) == 4_849_50

    # The cabinet's recent operations: the provider, the account, the badge, the receipt.
    cabinet = client.get("/cabinet/")
    recent = text(cabinet).split("Последние операции", 1)[1]
    assert "DosTek group" in recent and INN in recent and "-150,50 сом проведён" in recent
    assert f'href="{payment.get_absolute_url()}"' in cabinet.content.decode()


def test_fee_is_shown_and_moved(client, wallet, catalogue, django_capture_on_commit_callbacks):
    hoster = catalogue["hoster"]  # 1 % paid by the payer
    confirm = next_step(client, hoster, "0012345", "1000")
    page = html.unescape(text(confirm))
    assert "Комиссия 10,00 сом" in page and "Итого 1 010,00 сом" in page
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post("/pay/hoster/confirm/", confirm_data(confirm))
    payment = Payment.objects.get()
    assert paid["Location"] == payment.get_absolute_url()
    assert (payment.amount, payment.fee, payment.total) == (1_000_00, 10_00, 1_010_00)
    assert ledger.balance_of(wallet.account) == 3_990_00
    assert ledger.balance_of(hoster.account) == 1_000_00
    assert ledger.balance_of(ledger.system_account(Account.Kind.FEES)) == 10_00
    assert "комиссия 10,00 сом" in SmsMessage.objects.get().text


def test_insufficient_balance_is_said_on_the_confirm_page(client, catalogue):
    wallet = make_wallet(balance=100_00)
    client.force_login(wallet.user)
    confirm = next_step(client, catalogue["dostek"], INN, "150")
    page = html.unescape(text(confirm))
    assert "Недостаточно средств в кошельке для этого платежа: с комиссией это 150,00 сом." in page
    assert "-50,00 сом" in page
    # Pressing «Оплатить» anyway (the button is disabled, but a POST can be made by hand).
    again = client.post("/pay/dostek/confirm/", confirm_data(confirm))
    assert again.status_code == 200
    assert (
        "Недостаточно средств в кошельке: на балансе 100,00 сом, платёж с комиссией — 150,00 сом."
        in html.unescape(text(again))
    )
    assert not Payment.objects.exists()
    assert ledger.balance_of(wallet.account) == 100_00
    assert not Transfer.objects.exclude(kind="cashin").exists()


def test_save_favourite_and_pay_again_in_one_click(
    client, wallet, catalogue, django_capture_on_commit_callbacks
):
    confirm = next_step(client, catalogue["dostek-ecp"], "1234567890123456", "500")
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post("/pay/dostek-ecp/confirm/", confirm_data(confirm))
    receipt = client.get(paid["Location"])
    assert "Добавить в «Избранное»" in html.unescape(text(receipt))
    saved = client.post(f"{paid['Location']}favourite/", {"name": "ЭЦП офиса"}, follow=True)
    assert "Сохранено в «Избранное»." in html.unescape(text(saved))
    favourite = Favourite.objects.get()
    assert (favourite.name, favourite.account, favourite.amount) == (
        "ЭЦП офиса",
        "1234567890123456",
        500_00,
    )

    home = client.get("/cabinet/")
    assert "Избранное" in text(home) and "ЭЦП офиса" in text(home)
    assert favourite.get_absolute_url() in home.content.decode()

    form = client.get(favourite.get_absolute_url())
    assert hidden_or_input(form, "account") == "1234567890123456"
    assert hidden_or_input(form, "amount") == "500,00"
    assert "Далее" in text(form)


def hidden_or_input(response, name):
    import re

    match = re.search(rf'name="{name}" value="([^"]*)"', response.content.decode())
    if not match:
        match = re.search(rf'value="([^"]*)"[^>]*name="{name}"', response.content.decode())
    return match.group(1)


def test_kyrgyz_interface_uses_kyrgyz_captions_and_hints(client, wallet, catalogue):
    client.cookies["kapchyk_language"] = "ky"
    form = client.get("/pay/dostek/")
    page = text(form)
    assert "Компаниянын ИННи" in page
    assert catalogue["dostek"].account_hint_ky in page
    bad = next_step(client, catalogue["dostek"], "123", "10")
    assert catalogue["dostek"].account_hint_ky in text(bad)


def test_sms_follows_the_owner_language(wallet, catalogue, django_capture_on_commit_callbacks):
    from billing import services

    wallet.user.language = "ky"
    wallet.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        payment = services.payment_create(
            wallet=wallet,
            provider=catalogue["dostek"],
            account=INN,
            amount=10_00,
            token=services.payment_token_new(wallet=wallet),
            channel="ussd",
        )
    assert SmsMessage.objects.get().text == (
        f"Капчык: 10,00 сом төлөндү, DosTek group, эсеп {INN}. Төлөм коду {payment.display_code}."
    )
