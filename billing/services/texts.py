"""What the payer is told by SMS, in the payer's language, queued with the transaction that
settles the payment (wallets.sms.sms_queue: sent by a task once it commits)."""

from django.utils import translation
from django.utils.translation import gettext as _

from wallets.money import format_som
from wallets.sms import sms_queue

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


def _owner_language(payment: Payment) -> str:
    return payment.wallet.user.language or "ru"


def sms_succeeded(payment: Payment) -> None:
    """Queue the confirmation SMS; call it inside the transaction that settles `payment`."""
    with translation.override(_owner_language(payment)):
        sms_queue(
            phone=payment.wallet.number,
            text=payment_sms_text(payment),
            secrets=[format_code(payment.code)],
        )


def sms_failed(payment: Payment) -> None:
    with translation.override(_owner_language(payment)):
        sms_queue(
            phone=payment.wallet.number,
            text=payment_failed_text(payment),
            secrets=[format_code(payment.code)],
        )
