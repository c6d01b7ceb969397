"""The payer's pages with an OSMP provider: «Далее» asks the provider (check), the confirm
page names the account's holder, «Оплатить» hands the payment to the task, the receipt
follows the payment (refreshing itself while pending) — in Russian and Kyrgyz."""

import html
import re

import pytest

from billing.models import Payment
from tests.billing.helpers import text
from tests.factories import make_wallet
from wallets.models import Transfer

from .conftest import HOLDER, START, create, next_attempt, paid_sms, sms_texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def payer(client, wallet):
    client.force_login(wallet.user)
    return wallet


def hidden_fields(response) -> dict:
    page = response.content.decode()
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
        if name != "csrfmiddlewaretoken"
    }


def further(client, provider, account="0012345", amount="150"):
    return client.post(f"/pay/{provider.slug}/", {"account": account, "amount": amount})


def test_next_checks_the_account_and_names_the_holder(client, payer, provider, reference):
    confirm = further(client, provider)
    page = html.unescape(text(confirm))
    assert "Проверьте платёж" in page
    assert f"Получатель {HOLDER}" in page
    assert "Итого 152,00 сом" in page
    assert [r["command"] for r in reference.requests] == ["check"]
    check = reference.requests[0]
    assert (check["account"], check["sum"]) == ("0012345", "150.00")
    assert int(check["txn_id"]) >= 10**17  # never one of our payments' ids
    assert not Payment.objects.exists()


def test_pay_and_the_receipt(
    client, payer, provider, reference, django_capture_on_commit_callbacks
):
    confirm = further(client, provider)
    data = {**hidden_fields(confirm), "action": "pay"}
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(f"/pay/{provider.slug}/confirm/", data)
    payment = Payment.objects.get()
    assert paid.status_code == 302 and paid["Location"] == f"/pay/receipt/{payment.code}/"
    assert (payment.status, payment.holder) == ("succeeded", HOLDER)
    assert [r["command"] for r in reference.requests] == ["check", "pay"]  # one check
    receipt = client.get(paid["Location"])
    page = html.unescape(text(receipt))
    assert "Платёж проведён." in page and f"Получатель {HOLDER}" in page
    assert "Статус проведён" in page
    assert 'http-equiv="refresh"' not in receipt.content.decode()
    assert sms_texts(payer) == [paid_sms(payment)]


def test_a_tampered_holder_is_dropped(
    client, payer, provider, reference, django_capture_on_commit_callbacks
):
    data = {**hidden_fields(further(client, provider)), "action": "pay"}
    data["holder"] = data["holder"][:-3] + "abc"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/pay/{provider.slug}/confirm/", data)
    assert Payment.objects.get().holder == ""


@pytest.mark.parametrize(
    ("account", "amount", "setup", "field", "message"),
    [
        ("0099999", "150", None, "account", "У поставщика нет такого счёта. Проверьте счёт."),
        ("0054321", "150", None, "account", "Этот счёт у поставщика не активен."),
        (
            "1234",
            "150",
            ("account_regex", r"\d{4,20}"),
            "account",
            "Поставщик не принимает счёт в таком формате. Проверьте счёт.",
        ),
        ("0077777", "150", None, None, "Поставщик не принимает платежи на этот счёт."),
        ("0012345", "5", ("min_sum", 10_00), "amount", "Сумма слишком мала для поставщика."),
        ("0012345", "150", ("max_sum", 100_00), "amount", "Сумма слишком велика для поставщика."),
        (
            "0012345",
            "150",
            ("fault", "result", 8),
            None,
            "Поставщик сейчас не может принять платёж по техническим причинам. Попробуйте позже.",
        ),
        (
            "0012345",
            "150",
            ("fault", "result", 243),
            "account",
            "Поставщик сейчас не может проверить этот счёт. Попробуйте позже.",
        ),
        ("0012345", "150", ("fault", "result", 300), None, "Поставщик отказал в платеже."),
        (
            "0012345",
            "150",
            ("fault", "http500", None),
            None,
            "Поставщик сейчас не отвечает. Попробуйте через несколько минут.",
        ),
        (
            "0012345",
            "150",
            ("fault", "result", 1),
            None,
            "Поставщик сейчас не отвечает. Попробуйте через несколько минут.",
        ),
    ],
)
def test_next_refused_by_the_provider(
    client, payer, provider, reference, account, amount, setup, field, message
):
    if setup and setup[0] == "fault":
        reference.fault(setup[1], command="check", code=setup[2] or 1)
    elif setup and setup[0] == "account_regex":
        provider.account_regex = setup[1]
        provider.save()
    elif setup:
        setattr(reference, *setup)
    response = further(client, provider, account, amount)
    assert response.status_code == 200
    form = response.context["form"]
    errors = form.errors.get(field or "__all__")
    assert errors == [message], form.errors
    assert "Далее" in text(response)  # back on the form, values kept
    assert form.data["account"] == account
    assert not Payment.objects.exists() and not Transfer.objects.exclude(kind="cashin").exists()


def test_refusal_in_kyrgyz(client, payer, provider, reference):
    client.post("/i18n/setlang/", {"language": "ky", "next": "/"})
    response = further(client, provider, "0099999")
    assert response.context["form"].errors["account"] == [
        "Кызмат көрсөтүүчүдө мындай эсеп жок. Эсепти текшериңиз."
    ]


def test_provider_down_on_next(client, payer, provider):
    provider.endpoint_url = "http://127.0.0.1:9/osmp"  # nothing listens there
    provider.save()
    response = further(client, provider)
    assert response.context["form"].non_field_errors() == [
        "Поставщик сейчас не отвечает. Попробуйте через несколько минут."
    ]


def test_pending_receipt_refreshes_itself_until_settled(
    client, payer, provider, reference, django_capture_on_commit_callbacks
):
    reference.fault("http500", times=1)
    payment = create(payer, provider, capture=django_capture_on_commit_callbacks)
    receipt = client.get(payment.get_absolute_url())
    page = html.unescape(text(receipt))
    assert '<meta http-equiv="refresh" content="5">' in receipt.content.decode()
    assert "Платёж обрабатывается." in page and "Страница обновляется сама." in page
    assert "Статус в обработке" in page
    next_attempt(payment, django_capture_on_commit_callbacks)
    receipt = client.get(payment.get_absolute_url())
    assert 'http-equiv="refresh"' not in receipt.content.decode()
    assert "Платёж проведён." in html.unescape(text(receipt))


def test_needs_attention_reads_as_processing_without_refresh(
    client, payer, provider, reference, django_capture_on_commit_callbacks
):
    payment = create(payer, provider, account="0090090", capture=django_capture_on_commit_callbacks)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.NEEDS_ATTENTION)
    receipt = client.get(payment.get_absolute_url())
    page = html.unescape(text(receipt))
    assert "Статус в обработке" in page and "проверки" not in page
    assert 'http-equiv="refresh"' not in receipt.content.decode()
    history = html.unescape(text(client.get("/cabinet/history/")))
    assert "в обработке" in history and "требует проверки" not in history


def test_failed_receipt_says_why(
    client, payer, provider, reference, django_capture_on_commit_callbacks
):
    payment = create(payer, provider, account="0054321", capture=django_capture_on_commit_callbacks)
    page = html.unescape(text(client.get(payment.get_absolute_url())))
    assert (
        "Платёж не прошёл, деньги вернулись в кошелёк. Этот счёт у поставщика не активен." in page
    ), page
    assert "Статус не прошёл" in page


def test_a_strangers_receipt_is_404(
    client, provider, reference, django_capture_on_commit_callbacks
):
    owner = make_wallet(balance=START)
    payment = create(owner, provider, capture=django_capture_on_commit_callbacks)
    stranger = make_wallet()
    client.force_login(stranger.user)
    assert client.get(payment.get_absolute_url()).status_code == 404
