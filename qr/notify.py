"""Telling the payer and the merchant's cashiers that a QR payment landed: in-app (the
notifications app, when present) and by SMS. Called inside the payment's transaction: the SMS
rows and their tasks commit with the money (wallets.sms.sms_queue), never before it."""

from django.utils import translation
from django.utils.translation import gettext as _

from wallets.money import format_som
from wallets.sms import sms_queue


def _language(wallet) -> str:
    return wallet.user.language or "ru"


def payer_text(payment) -> str:
    return _("Kapchyk: paid %(amount)s to %(merchant)s by QR code. Payment code %(code)s.") % {
        "amount": format_som(payment.total),
        "merchant": payment.merchant.name,
        "code": payment.display_code,
    }


def cashier_text(payment) -> str:
    return _("Kapchyk: %(merchant)s received %(amount)s by QR code, payment %(code)s.") % {
        "amount": format_som(payment.amount),
        "merchant": payment.merchant.name,
        "code": payment.display_code,
    }


def qr_payment_notify(payment) -> None:
    """The payer's SMS and one to each cashier of the merchant, each in its own language."""
    with translation.override(_language(payment.wallet)):
        sms_queue(phone=payment.wallet.number, text=payer_text(payment))
    for cashier in payment.merchant.cashiers.select_related("user"):
        if cashier.pk == payment.wallet_id:
            continue
        with translation.override(_language(cashier)):
            sms_queue(phone=cashier.number, text=cashier_text(payment))
