import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory, make_wallet, system
from wallets import ledger
from wallets.models import Account, CashIn, Transfer
from wallets.phones import format_number

pytestmark = pytest.mark.django_db


def test_home_shows_number_balance_and_last_ten_operations(client):
    wallet = make_wallet(balance=1_234_50)
    fees = system(Account.Kind.FEES)
    for n in range(12):
        ledger.transfer(
            debit=wallet.account, credit=fees, amount=1_00, key=f"op{n}", memo=f"op {n}"
        )
    client.force_login(wallet.user)
    response = client.get(reverse("wallets:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Кошелёк {format_number(wallet.number)}" in html
    assert "1 222,50 сом" in html
    assert html.count('class="op"') == 10  # the last 10 operations
    assert "op 11" in html and "op 2" in html and "op 1<" not in html


def test_home_needs_sign_in(client):
    response = client.get(reverse("wallets:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_history_is_paginated_newest_first_with_constant_queries(
    client, django_assert_max_num_queries
):
    wallet = make_wallet(balance=500_00)
    fees = system(Account.Kind.FEES)
    for n in range(60):
        ledger.transfer(debit=wallet.account, credit=fees, amount=1_00, key=f"h{n}", memo=f"m{n}")
    client.force_login(wallet.user)
    url = reverse("wallets:history")
    client.get(url)  # the session's idle timeout refreshed (once a minute)
    # Session, user, wallet, count, rows, the filter's services, the bell's unread count.
    with django_assert_max_num_queries(7):
        first = client.get(url).content.decode()
    with django_assert_max_num_queries(7):
        third = client.get(url + "?page=3").content.decode()
    assert "m59" in first and "m35" in first and "m34" not in first
    assert "Страница 1 из 3" in first
    assert "m9<" in third and "500,00 сом" not in first
    assert '+<span class="money">500,00 сом</span>' in third  # the top-up is the oldest


def test_history_filters_by_dates_and_refuses_a_reversed_period(client):
    wallet = make_wallet(balance=100_00)
    fees = system(Account.Kind.FEES)
    old = ledger.transfer(debit=wallet.account, credit=fees, amount=2_00, key="old", memo="old one")
    Transfer.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=40)
    )
    ledger.transfer(debit=wallet.account, credit=fees, amount=3_00, key="new", memo="new one")
    client.force_login(wallet.user)
    today = timezone.localdate()
    since = (today - datetime.timedelta(days=7)).isoformat()
    html = client.get(reverse("wallets:history"), {"date_from": since}).content.decode()
    assert "new one" in html and "old one" not in html
    html = client.get(
        reverse("wallets:history"), {"date_from": today.isoformat(), "date_to": since}
    ).content.decode()
    assert "Начало периода позже его конца." in html


def test_stranger_sees_only_own_history(client):
    alice = make_wallet(balance=77_00)
    bob = make_wallet(balance=33_00)
    fees = system(Account.Kind.FEES)
    ledger.transfer(debit=alice.account, credit=fees, amount=1_00, key="a", memo="alice secret")
    client.force_login(bob.user)
    html = client.get(reverse("wallets:history")).content.decode()
    assert "alice secret" not in html
    assert "33,00 сом" in html and "77,00" not in html


def test_offer_page_shows_current_version(client):
    html = client.get(reverse("wallets:offer")).content.decode()
    assert "Публичная оферта электронного кошелька «Капчык»" in html


def test_cashin_command_credits_through_the_ledger_once_per_key(capsys):
    wallet = make_wallet()
    staff = UserFactory(is_staff=True)
    call_command(
        "cashin", "0" + wallet.number[4:], "150,50", reason="KICB desk", by=staff.phone, key="r1"
    )
    call_command("cashin", wallet.number, "150.50", reason="KICB desk", by=staff.phone, key="r1")
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 150_50
    cashin = CashIn.objects.get()
    assert (cashin.amount, cashin.reason, cashin.created_by) == (150_50, "KICB desk", staff)
    assert cashin.transfer.debit == system(Account.Kind.CASHIN)
    assert "balance 150,50" in capsys.readouterr().out.replace("сом", "").replace("som", "")
    assert ledger.check() == []


@pytest.mark.parametrize(
    ("number", "amount"), [("0312 123456", "10"), ("+996555000999", "abc"), ("+996555000999", "0")]
)
def test_cashin_command_refuses_bad_input(number, amount):
    with pytest.raises(CommandError):
        call_command("cashin", number, amount, reason="x")
    assert not Transfer.objects.exists()


def test_ledger_check_command(capsys):
    wallet = make_wallet(balance=10_00)
    call_command("ledger_check")
    assert "ledger OK" in capsys.readouterr().out
    Account.objects.filter(pk=wallet.account_id).update(balance=9_00)
    with pytest.raises(CommandError):
        call_command("ledger_check")
    assert wallet.account.code in capsys.readouterr().err


def test_admin_cashin_is_audited_and_resubmit_safe(admin_client, admin_user):
    wallet = make_wallet()
    url = reverse("admin:wallets_wallet_cashin", args=[wallet.pk])
    assert admin_client.get(url).status_code == 200
    data = {"amount": "250", "reason": "Terminal QIWI", "nonce": "n1"}
    assert admin_client.post(url, data).status_code == 302
    assert admin_client.post(url, data).status_code == 302  # a resubmitted form
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 250_00
    cashin = CashIn.objects.get()
    assert (cashin.created_by, cashin.reason) == (admin_user, "Terminal QIWI")
    response = admin_client.post(url, {"amount": "-5", "reason": "x", "nonce": "n2"})
    assert response.status_code == 200
    assert CashIn.objects.count() == 1


def test_admin_cashin_needs_the_permission(client):
    staff = UserFactory(is_staff=True)
    wallet = make_wallet()
    client.force_login(staff)
    response = client.post(
        reverse("admin:wallets_wallet_cashin", args=[wallet.pk]),
        {"amount": "100", "reason": "x", "nonce": "n"},
    )
    assert response.status_code in (302, 403)
    assert not CashIn.objects.exists()


def test_create_superuser_stores_the_number_in_e164(capsys):
    call_command("createsuperuser", "--noinput", phone="0555 987 654")
    from wallets.models import User

    assert User.objects.get(is_superuser=True).phone == "+996555987654"
    with pytest.raises(ValueError):
        User.objects.create_user("0312 123456", "x")
