"""Staff and the gateways in the admin: payments that need attention are listed; «retry now»
and «refund» (with a confirmation) are for the refunds group, in the audit log; the daily
registry downloads as CSV; a provider's gateway password is write-only."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from billing.models import Payment
from providers.models import Provider
from tests.factories import UserFactory
from tests.staff import staff_login
from wallets.models import AuditLog

from .conftest import (
    AMOUNT,
    FEE,
    START,
    assert_back_in_wallet,
    assert_with_provider,
    balances,
    create,
    local_day,
    next_attempt,
    paid_sms,
    refunded_sms,
    sms_texts,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:billing_payment_changelist"


def member(*groups) -> Client:
    user = UserFactory(is_staff=True)
    user.groups.set(Group.objects.filter(name__in=groups))
    client = Client()
    staff_login(client, user)
    client.user = user
    return client


@pytest.fixture
def stuck(wallet, provider, reference, django_capture_on_commit_callbacks):
    """A payment past its retry budget: the provider answered 90 three times."""
    payment = create(
        wallet, provider, account="0090090", capture=django_capture_on_commit_callbacks
    )
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    payment = next_attempt(payment, django_capture_on_commit_callbacks)
    assert payment.status == "needs_attention"
    return payment


def action(client, name, payments, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": name, "_selected_action": [p.pk for p in payments], **extra},
    )


def test_needs_attention_is_listed(stuck, wallet, provider, django_assert_max_num_queries):
    client = member("support")
    create(wallet, provider, amount=10_00)  # pending (its task never ran): not listed
    with django_assert_max_num_queries(15):
        page = client.get(reverse(CHANGELIST), {"queue": "attention"})
    assert page.status_code == 200
    assert [p.pk for p in page.context["cl"].result_list] == [stuck.pk]
    assert "Требуют проверки" in page.content.decode()
    by_status = client.get(reverse(CHANGELIST), {"status__exact": "needs_attention"})
    assert [p.pk for p in by_status.context["cl"].result_list] == [stuck.pk]
    # Support reads, but has neither action.
    assert page.context["action_form"] is None
    page = member("refunds").get(reverse(CHANGELIST), {"queue": "attention"})
    actions = dict(page.context["action_form"].fields["action"].choices)
    assert (actions["retry_now"], actions["refund"]) == ("Повторить сейчас", "Вернуть в кошелёк")


def test_overdue_pending_is_listed(wallet, provider):
    payment = create(wallet, provider)  # a crash left it unsent
    Payment.objects.filter(pk=payment.pk).update(
        next_attempt_at=payment.created_at - datetime.timedelta(hours=1)
    )
    page = member("support").get(reverse(CHANGELIST), {"queue": "overdue"})
    assert [p.pk for p in page.context["cl"].result_list] == [payment.pk]


def test_support_cannot_retry_or_refund(stuck, wallet, provider):
    client = member("support")
    for name in ("retry_now", "refund"):
        response = action(client, name, [stuck], confirmed="yes")
        assert response.status_code in (200, 302)
    stuck.refresh_from_db()
    assert stuck.status == "needs_attention"
    assert balances(wallet, provider) == (START - AMOUNT - FEE, 0, AMOUNT + FEE, 0)
    assert not AuditLog.objects.exists()


def test_retry_now(
    stuck, wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    client = member("refunds")
    reference.add_account("0090090", "ОсОО «Вечный Процесс»", True, "")  # it finishes now
    with django_capture_on_commit_callbacks(execute=True):
        response = action(client, "retry_now", [stuck])
    assert response.status_code == 302
    stuck.refresh_from_db()
    assert (stuck.status, stuck.attempts) == ("succeeded", 4)
    entry = AuditLog.objects.get()
    assert (entry.actor, entry.action, entry.object_id, entry.amount, entry.ip) == (
        client.user,
        "payment_retry",
        str(stuck.pk),
        AMOUNT + FEE,
        "127.0.0.1",
    )
    assert sms_texts(wallet) == [paid_sms(stuck)]
    assert_with_provider(stuck, wallet, provider, reference, tmp_path)
    # A second retry of a settled payment changes nothing.
    response = action(client, "retry_now", [stuck])
    assert AuditLog.objects.count() == 1


def test_refund_asks_first_then_refunds_once(
    stuck, wallet, provider, reference, tmp_path, django_capture_on_commit_callbacks
):
    client = member("refunds")
    ask = action(client, "refund", [stuck])
    assert ask.status_code == 200
    page = ask.content.decode()
    assert "Вернуть платежи в кошельки?" in page and stuck.display_code in page
    assert "Да, вернуть" in page
    stuck.refresh_from_db()
    assert stuck.status == "needs_attention"  # nothing yet
    with django_capture_on_commit_callbacks(execute=True):
        done = action(client, "refund", [stuck], confirmed="yes")
        again = action(client, "refund", [stuck], confirmed="yes")
    assert done.status_code == again.status_code == 302
    entry = AuditLog.objects.get()
    assert (entry.actor, entry.action, entry.amount) == (client.user, "payment_refund", 152_00)
    assert sms_texts(wallet) == [refunded_sms(stuck)]
    assert_back_in_wallet(stuck, wallet, provider, reference, tmp_path)


def test_refund_skips_a_pending_payment(wallet, provider, django_capture_on_commit_callbacks):
    payment = create(wallet, provider)  # pending: an attempt may be in flight
    with django_capture_on_commit_callbacks(execute=True):
        action(member("refunds"), "refund", [payment], confirmed="yes")
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert balances(wallet, provider) == (START - AMOUNT - FEE, 0, AMOUNT + FEE, 0)


def test_registry_download(wallet, provider, reference, django_capture_on_commit_callbacks):
    first = create(wallet, provider, amount=10_00, capture=django_capture_on_commit_callbacks)
    second = create(wallet, provider, amount=20_50, capture=django_capture_on_commit_callbacks)
    create(
        wallet, provider, account="0054321", capture=django_capture_on_commit_callbacks
    )  # failed
    day = local_day(first)
    client = member("support")
    url = reverse("admin:billing_payment_registry")
    form = client.get(url, {"provider": provider.pk})
    assert form.status_code == 200 and "Скачать CSV" in form.content.decode()
    response = client.get(url, {"provider": provider.pk, "date": str(day)})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="registry-{provider.slug}-{day:%Y%m%d}.csv"'
    )
    moments = [
        p.created_at.astimezone(ZoneInfo("Asia/Bishkek")).strftime("%Y-%m-%d %H:%M:%S")
        for p in (first, second)
    ]
    assert response.content.decode() == (
        "txn_id,datetime,account,amount,payment_code\n"
        f"{first.pk},{moments[0]},0012345,10.00,{first.code}\n"
        f"{second.pk},{moments[1]},0012345,20.50,{second.code}\n"
    )
    assert Client().get(url).status_code == 302  # staff only: to the sign-in


def test_gateway_password_is_write_only(provider):
    client = Client()
    staff_login(client, UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:providers_provider_change", args=[provider.pk])
    Provider.objects.filter(pk=provider.pk).update(password="old-secret")
    page = client.get(url).content.decode()
    assert "old-secret" not in page
    assert 'name="new_password"' in page and "Пароль сохранён (не показывается)" in page

    form = page_form(client.get(url))
    form.update({"login": "kapchyk", "new_password": ""})
    assert client.post(url, form).status_code == 302
    provider.refresh_from_db()
    assert (provider.login, provider.password) == ("kapchyk", "old-secret")  # kept

    form["new_password"] = "new-secret"
    client.post(url, form)
    provider.refresh_from_db()
    assert provider.password == "new-secret"
    assert "new-secret" not in client.get(url).content.decode()

    form.update({"new_password": "", "clear_password": "on"})
    client.post(url, form)
    provider.refresh_from_db()
    assert provider.password == ""


def test_an_osmp_provider_needs_its_url(provider):
    client = Client()
    staff_login(client, UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:providers_provider_change", args=[provider.pk])
    form = page_form(client.get(url))
    form["endpoint_url"] = ""
    response = client.post(url, form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["endpoint_url"] == [
        "Для поставщика OSMP нужен адрес шлюза."
    ]


def page_form(response) -> dict:
    """The change form's current values, as the browser would post them back."""
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if name == "new_password" or value is None:
            value = ""
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = field.prepare_value(value) if hasattr(field, "prepare_value") else value
    return data
