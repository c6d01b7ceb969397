"""The limits as a payer meets them: «Далее» refuses, the confirm page shows the headroom,
a refusal at «Оплатить» names the limit, a failed payment gives it back; the /limits/ page;
the level page in the admin."""

import html

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from billing import services
from billing.models import Payment
from providers import gateways
from tests.billing.helpers import INN, confirm_data, next_step, text
from tests.factories import ProviderFactory, UserFactory, make_wallet
from tests.staff import staff_login
from wallets import ledger, limits
from wallets.audit import COMMAND
from wallets.models import Account, AuditLog, Level, LevelChange, Wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def small():
    """A level: one operation at most 1 000 som, 1 500 som a day, 2 000 som a month."""
    return Level.objects.create(
        order=10,
        name_ru="Тестовый",
        name_ky="Сыноо",
        limit_operation=1_000_00,
        limit_out_day=1_500_00,
        limit_out_month=2_000_00,
    )


def page(response):
    return html.unescape(text(response))


def test_next_refuses_an_amount_over_one_operation_and_nothing_moves(client, catalogue, small):
    wallet = make_wallet(balance=5_000_00, level=small)
    client.force_login(wallet.user)
    response = next_step(client, catalogue["dostek"], INN, "1000,01")
    assert response.status_code == 200
    assert "На вашем уровне идентификации одна операция — не более 1 000,00 сом." in page(response)
    assert not Payment.objects.exists()
    assert ledger.balance_of(wallet.account) == 5_000_00


def test_the_confirm_page_shows_the_headroom_above_80_percent(client, catalogue, small):
    wallet = make_wallet(balance=5_000_00, level=small)
    client.force_login(wallet.user)
    calm = next_step(client, catalogue["dostek"], INN, "500")
    assert "лимита" not in page(calm)
    close = next_step(client, catalogue["dostek"], INN, "900")
    shown = page(close)
    assert "На вашем уровне идентификации одна операция — не более 1 000,00 сом." in shown
    assert "После этого платежа на сегодня останется 600,00 сом дневного лимита." not in shown
    paid = client.post("/pay/dostek/confirm/", confirm_data(close))
    assert paid.status_code == 302
    # 900 som out today: another 400 som takes the day above 80 % (1 300 of 1 500).
    again = page(next_step(client, catalogue["dostek"], INN, "400"))
    assert "После этого платежа на сегодня останется 200,00 сом дневного лимита." in again
    assert "месячного лимита" not in again  # 1 300 of 2 000: 65 %


def test_pay_refuses_what_another_payment_used_up_meanwhile(client, catalogue, small):
    wallet = make_wallet(balance=5_000_00, level=small)
    client.force_login(wallet.user)
    shown = next_step(client, catalogue["dostek"], INN, "800")
    # Meanwhile (another tab, *900#) 800 som leave the wallet.
    services.payment_create(
        wallet=wallet,
        provider=catalogue["dostek"],
        account=INN,
        amount=800_00,
        token=services.payment_token_new(wallet=wallet),
    )
    refused = client.post("/pay/dostek/confirm/", confirm_data(shown))
    assert refused.status_code == 200
    assert (
        "Дневной лимит вашего уровня идентификации будет превышен: сегодня из кошелька "
        "можно потратить ещё 700,00 сом." in page(refused)
    )
    assert Payment.objects.count() == 1
    assert ledger.balance_of(wallet.account) == 4_200_00


def test_the_ledger_refusal_names_the_limit_with_its_code(catalogue, small):
    wallet = make_wallet(balance=5_000_00, level=small)
    stale = Wallet.objects.with_account().get(pk=wallet.pk)
    services.payment_create(
        wallet=wallet,
        provider=catalogue["dostek"],
        account=INN,
        amount=1_000_00,
        token=services.payment_token_new(wallet=wallet),
    )
    services.payment_create(
        wallet=wallet,
        provider=catalogue["dostek"],
        account=INN,
        amount=500_00,
        token=services.payment_token_new(wallet=wallet),
    )
    # `stale` was loaded before: the quote lets it through, the ledger refuses.
    with pytest.raises(ValidationError) as caught:
        services.payment_create(
            wallet=stale,
            provider=catalogue["dostek"],
            account=INN,
            amount=100_00,
            token=services.payment_token_new(wallet=stale),
        )
    (entry,) = caught.value.error_dict["__all__"]
    assert (entry.code, entry.params) == ("limit_exceeded", {"limit": "out_day", "left": 0})
    assert Payment.objects.count() == 2


class FailingGateway:
    name, asynchronous = "failing", False

    def check(self, provider, *, account, amount):
        return gateways.Outcome(gateways.Status.SUCCEEDED)

    def pay(self, payment):
        return gateways.Outcome(gateways.Status.RETRY)


def test_a_failed_payment_gives_the_limit_back(monkeypatch, small):
    monkeypatch.setitem(gateways.GATEWAYS, "internal", FailingGateway)
    provider = ProviderFactory(fee_fixed=10_00)
    wallet = make_wallet(balance=5_000_00, level=small)
    payment = services.payment_create(
        wallet=wallet,
        provider=provider,
        account=INN,
        amount=990_00,
        token=services.payment_token_new(wallet=wallet),
    )
    assert payment.status == "pending"
    account = Account.objects.get(pk=wallet.account_id)
    assert (account.out_day, account.out_month) == (1_000_00, 1_000_00)
    services.payment_fail(payment=payment, reason="closed")
    account.refresh_from_db()
    assert (account.out_day, account.out_month, account.balance) == (0, 0, 5_000_00)
    assert limits.left(account)["out_day"] == 1_500_00
    assert ledger.check() == []


def test_the_limits_page_shows_level_limits_what_is_left_and_the_next_level(client, catalogue):
    wallet = make_wallet(balance=5_000_00)
    base = Level.objects.get(name_ru="Базовый")
    limits.level_set(wallet=wallet, level=base, evidence="SMS", changed_by=None, origin=COMMAND)
    services.payment_create(
        wallet=wallet,
        provider=catalogue["dostek"],
        account=INN,
        amount=1_500_00,
        token=services.payment_token_new(wallet=wallet),
    )
    client.force_login(wallet.user)
    response = client.get("/limits/")
    assert response.status_code == 200
    shown = page(response)
    assert "Уровень идентификации Базовый" in shown
    assert "Одна операция не более 30 000,00 сом 30 000,00 сом" in shown
    assert "Расход за месяц 200 000,00 сом 198 500,00 сом" in shown
    assert "Расход за день без ограничения —" in shown
    assert "Баланс не более 30 000,00 сом 26 500,00 сом" in shown
    assert "Следующий уровень: Упрощённый" in shown
    assert "видеозвонок" in shown
    assert "Одна операция до 100 000,00 сом" in shown


def test_the_limits_page_needs_a_sign_in(client):
    response = client.get("/limits/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_identification_staff_raise_a_level_from_the_wallet_admin_page(client, small):
    wallet = make_wallet(balance=100_00, level=small)
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name="identification"))
    staff_login(client, staff)
    url = f"/admin/wallets/wallet/{wallet.pk}/level/"
    assert "Уровень идентификации" in page(client.get(url))
    full = Level.objects.get(name_ru="Полный")
    response = client.post(url, {"level": full.pk, "evidence": "лично, паспорт AN1234567"})
    assert response.status_code == 302
    wallet.refresh_from_db()
    assert wallet.level == full
    assert Account.objects.get(pk=wallet.account_id).limit_operation == 100_000_00
    change = LevelChange.objects.get()
    assert (change.old_level, change.new_level, change.changed_by) == (small, full, staff)
    assert AuditLog.objects.get(action="level_change").actor == staff


def test_staff_without_the_group_cannot_change_a_level(client, small):
    wallet = make_wallet(level=small)
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name="support"))
    staff_login(client, staff)
    url = f"/admin/wallets/wallet/{wallet.pk}/level/"
    assert client.get(url).status_code == 403
    full = Level.objects.get(name_ru="Полный")
    assert client.post(url, {"level": full.pk, "evidence": "x"}).status_code == 403
    wallet.refresh_from_db()
    assert wallet.level == small and not LevelChange.objects.exists()
