"""Staff permissions: provider setup, cash-in and refunds are separate; support looks and
moves no money. Every cash-in by staff is in the audit log (who, what, when, from where),
which the admin shows and cannot change."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory, make_wallet
from tests.staff import staff_login
from wallets import services
from wallets.audit import Origin
from wallets.models import AuditLog, CashIn
from wallets.staff_groups import GROUPS

pytestmark = pytest.mark.django_db


def member(*groups) -> Client:
    user = UserFactory(is_staff=True)
    user.groups.set(Group.objects.filter(name__in=groups))
    client = Client()
    staff_login(client, user)
    client.user = user
    return client


def cashin(client, wallet, amount="250", nonce="n1"):
    url = reverse("admin:wallets_wallet_cashin", args=[wallet.pk])
    return client.post(url, {"amount": amount, "reason": "KICB desk", "nonce": nonce})


def test_the_groups_exist_with_their_permissions():
    groups = {g.name: g for g in Group.objects.prefetch_related("permissions__content_type")}
    assert set(groups) >= set(GROUPS)
    for name, wanted in GROUPS.items():
        have = {f"{p.content_type.app_label}.{p.codename}" for p in groups[name].permissions.all()}
        assert have == set(wanted), name
    moving_money = {"wallets.add_cashin", "billing.refund_payment", "billing.retry_payment"}
    assert not moving_money & set(GROUPS["support"])
    assert not any(p.startswith(("wallets.change", "wallets.delete")) for p in GROUPS["support"])
    assert "wallets.view_smsmessage" not in GROUPS["support"]  # the outbox holds SMS codes
    assert moving_money & set(GROUPS["providers"]) == set()
    assert set(GROUPS["cash desk"]) & moving_money == {"wallets.add_cashin"}
    assert set(GROUPS["refunds"]) & moving_money == {
        "billing.refund_payment",
        "billing.retry_payment",
    }


@pytest.mark.parametrize(
    ("group", "may"),
    [
        ("support", set()),
        ("providers", {"providers"}),
        ("cash desk", {"cashin"}),
        ("refunds", {"refund", "retry"}),
    ],
)
def test_each_group_may_do_only_its_own_part(group, may):
    client = member(group)
    user = client.user
    assert user.has_perm("wallets.add_cashin") == ("cashin" in may)
    assert user.has_perm("billing.refund_payment") == ("refund" in may)
    assert user.has_perm("billing.retry_payment") == ("retry" in may)
    assert user.has_perm("providers.change_provider") == ("providers" in may)
    add_provider = client.get(reverse("admin:providers_provider_add"))
    assert add_provider.status_code == (200 if "providers" in may else 403)


def test_support_reads_but_moves_no_money():
    wallet = make_wallet(balance=10_00)
    client = member("support")
    for name in (
        "admin:wallets_wallet_changelist",
        "admin:wallets_transfer_changelist",
        "admin:wallets_cashin_changelist",
        "admin:billing_payment_changelist",
        "admin:wallets_auditlog_changelist",
        "admin:providers_provider_changelist",
    ):
        assert client.get(reverse(name)).status_code == 200, name
    change = client.get(reverse("admin:wallets_wallet_change", args=[wallet.pk]))
    assert change.status_code == 200
    assert reverse("admin:wallets_wallet_cashin", args=[wallet.pk]) not in change.content.decode()
    assert client.get(reverse("admin:wallets_smsmessage_changelist")).status_code == 403
    assert client.get(reverse("admin:wallets_wallet_cashin", args=[wallet.pk])).status_code == 403
    assert cashin(client, wallet).status_code == 403
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 10_00
    assert not CashIn.objects.filter(created_by=client.user).exists()
    assert not AuditLog.objects.exists()


def test_a_cash_desk_cashin_is_in_the_audit_log_once():
    wallet = make_wallet()
    client = member("cash desk")
    page = client.get(reverse("admin:wallets_wallet_change", args=[wallet.pk]))
    assert reverse("admin:wallets_wallet_cashin", args=[wallet.pk]) in page.content.decode()
    assert cashin(client, wallet, nonce="n1").status_code == 302
    assert cashin(client, wallet, nonce="n1").status_code == 302  # resubmitted: once
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 250_00
    entry = AuditLog.objects.get()
    moved = CashIn.objects.get()
    assert (entry.actor, entry.action, entry.channel, entry.ip) == (
        client.user,
        "cashin",
        "admin",
        "127.0.0.1",
    )
    assert (entry.object_type, entry.object_id, entry.object_repr) == (
        "wallets.wallet",
        str(wallet.pk),
        str(wallet),
    )
    assert entry.amount == 250_00
    assert entry.details == {
        "reason": "KICB desk",
        "cashin": moved.pk,
        "transfer": moved.transfer_id,
    }
    assert entry.created_at >= moved.created_at


def test_the_audit_ip_is_the_clients_behind_the_trusted_proxy(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    wallet = make_wallet()
    client = member("cash desk")
    url = reverse("admin:wallets_wallet_cashin", args=[wallet.pk])
    response = client.post(
        url,
        {"amount": "5", "reason": "desk", "nonce": "p1"},
        headers={"X-Forwarded-For": "203.0.113.7"},
        REMOTE_ADDR="10.0.0.2",
    )
    assert response.status_code == 302
    assert AuditLog.objects.get().ip == "203.0.113.7"


def test_the_cashin_command_is_in_the_audit_log_once():
    wallet = make_wallet()
    staff = UserFactory(is_staff=True)
    for _ in range(2):
        call_command("cashin", wallet.number, "75", reason="terminal", by=staff.phone, key="k1")
    entry = AuditLog.objects.get()
    assert (entry.actor, entry.action, entry.channel, entry.ip, entry.amount) == (
        staff,
        "cashin",
        "command",
        None,
        75_00,
    )


def test_no_audit_row_no_money(monkeypatch):
    """The audit row commits with the money or neither does."""
    wallet = make_wallet()

    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(services, "audit_record", broken)
    with pytest.raises(RuntimeError):
        services.cashin_create(
            wallet=wallet,
            amount=10_00,
            reason="x",
            created_by=UserFactory(is_staff=True),
            origin=Origin(channel="admin", ip="127.0.0.1"),
        )
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 0
    assert not CashIn.objects.exists()


def test_the_audit_log_is_read_only_in_the_admin(admin_client):
    wallet = make_wallet()
    services.cashin_create(
        wallet=wallet,
        amount=1_00,
        reason="x",
        created_by=None,
        origin=Origin(channel="command"),
    )
    entry = AuditLog.objects.get()
    changelist = admin_client.get(reverse("admin:wallets_auditlog_changelist"))
    assert changelist.status_code == 200
    assert "1,00 сом" in changelist.content.decode()
    change_url = reverse("admin:wallets_auditlog_change", args=[entry.pk])
    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(change_url, {"amount": "1"}).status_code == 403
    assert admin_client.get(reverse("admin:wallets_auditlog_add")).status_code == 403
    delete_url = reverse("admin:wallets_auditlog_delete", args=[entry.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    bulk = admin_client.post(
        reverse("admin:wallets_auditlog_changelist"),
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302, 403)
    assert AuditLog.objects.filter(pk=entry.pk).exists()
