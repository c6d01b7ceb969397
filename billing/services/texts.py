"""What the payer is told (in-app, by SMS, by Web Push), in the payer's language, written
with the transaction that settles the payment (notifications.services.notify: delivered by
a task once it commits)."""

from django.utils.translation import gettext as _

from notifications.models import Notification
from notifications.services import notify
from wallets.money import format_som

from ..models import Payment, format_code


def payment_sms_text(payment: Payment) -> str:
    """The confirmation SMS, in the current language."""
    values = {
        "provider": payment.provider.name,
        "account": payment.account,
        "amount": format_som(payment.amount),
        "fee": format_som(payment.fee),
        "code": format_code(payment.code),
    }
    if payment.fee:
        return (
            _(
                "Kapchyk: paid %(amount)s to %(provider)s, account %(account)s, fee %(fee)s. "
                "Payment code %(code)s."
            )
            % values
        )
    return (
        _("Kapchyk: paid %(amount)s to %(provider)s, account %(account)s. Payment code %(code)s.")
        % values
    )


def payment_failed_text(payment: Payment) -> str:
    return _(
        "Kapchyk: the payment %(code)s to %(provider)s did not go through; "
        "%(total)s returned to your wallet."
    ) % {
        "code": format_code(payment.code),
        "provider": payment.provider.name,
        "total": format_som(payment.total),
    }


def payment_refunded_text(payment: Payment) -> str:
    return _(
        "Kapchyk: the payment %(code)s to %(provider)s was refunded; "
        "%(total)s returned to your wallet."
    ) % {
        "code": format_code(payment.code),
        "provider": payment.provider.name,
        "total": format_som(payment.total),
    }


def _tell(payment: Payment, kind: str, text) -> None:
    notify(
        user=payment.wallet.user,
        kind=kind,
        text=lambda: text(payment),
        url=payment.get_absolute_url(),
        sms=True,
        secrets=[format_code(payment.code)],
    )


def tell_succeeded(payment: Payment) -> None:
    """Tell the payer; call it inside the transaction that settles `payment`."""
    _tell(payment, Notification.Kind.PAYMENT_SUCCEEDED, payment_sms_text)


def tell_failed(payment: Payment) -> None:
    """The provider refused: the total is back in the wallet (same transaction)."""
    _tell(payment, Notification.Kind.PAYMENT_FAILED, payment_failed_text)


def tell_refunded(payment: Payment) -> None:
    """Staff refunded a payment that needed attention (same transaction)."""
    _tell(payment, Notification.Kind.PAYMENT_REFUNDED, payment_refunded_text)
