"""Telling the payer and the merchant's cashiers that a QR payment landed: in-app, by SMS
and by Web Push (notifications.services.notify). Called inside the payment's transaction:
the rows and their delivery task commit with the money, never before it."""

from django.utils.translation import gettext as _

from notifications.models import Notification
from notifications.services import notify
from wallets.money import format_som


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
    """The payer's notification and one to each cashier of the merchant, each in its own
    language (SMS copies too)."""
    notify(
        user=payment.wallet.user,
        kind=Notification.Kind.PAYMENT_SUCCEEDED,
        text=lambda: payer_text(payment),
        url=payment.get_absolute_url(),
        sms=True,
    )
    for cashier in payment.merchant.cashiers.select_related("user"):
        if cashier.pk == payment.wallet_id:
            continue
        notify(
            user=cashier.user,
            kind=Notification.Kind.QR_RECEIVED,
            text=lambda: cashier_text(payment),
            url=payment.merchant.get_absolute_url(),
            sms=True,
        )
