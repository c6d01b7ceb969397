"""A payment's failure and its refund by staff, told to the payer: a notification of its own
kind with the exact text in the payer's language (and the same SMS), in the transaction that
gives the money back."""

import pytest

from billing import services as billing
from billing.models import Payment
from notifications.models import Notification
from wallets.audit import Origin

from .conftest import create, sms_texts

pytestmark = pytest.mark.django_db


def notes(user):
    rows = Notification.objects.filter(user=user).order_by("id")
    return list(rows.values_list("kind", "text", "url"))


def test_payment_failed_by_the_provider_is_told_with_the_money_back(
    wallet, provider, django_capture_on_commit_callbacks
):
    payment = create(
        wallet, provider, account="0099999", capture=django_capture_on_commit_callbacks
    )
    assert payment.status == "failed"
    text = (
        f"Капчык: платёж {payment.display_code}, Хостер не прошёл; 152,00 сом возвращены в кошелёк."
    )
    assert notes(wallet.user) == [("payment_failed", text, payment.get_absolute_url())]
    assert sms_texts(wallet) == [text]


def test_payment_refunded_by_staff_is_its_own_kind(
    wallet, provider, django_capture_on_commit_callbacks
):
    type(wallet.user).objects.filter(pk=wallet.user_id).update(language="ky")
    wallet.user.language = "ky"
    payment = create(
        wallet, provider, account="0090090", capture=django_capture_on_commit_callbacks
    )
    Payment.objects.filter(pk=payment.pk).update(status="needs_attention")
    with django_capture_on_commit_callbacks(execute=True):
        assert billing.payment_refund(
            payment=payment, origin=Origin(channel="admin", ip="127.0.0.1")
        )
    text = (
        f"Капчык: {payment.display_code} төлөмү, Хостер жокко чыгарылды; "
        "152,00 сом капчыгыңызга кайтарылды."
    )
    assert notes(wallet.user) == [("payment_refunded", text, payment.get_absolute_url())]
    assert sms_texts(wallet) == [text]
