"""Payments: quote → one-time token → hold (wallet → suspense) → settle by the gateway.

Ledger keys of a payment (Payment.ledger_key): payment:<code>:hold (wallet → suspense,
the total), :settle (suspense → provider, the amount), :fee (suspense → fees, the fee),
:refund (suspense → wallet, the total). Every step is its own durable transaction and is
keyed, so a retried step never moves money twice.
"""

import secrets
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from providers.gateways import Status, gateway_for
from providers.models import Provider
from providers.validators import normalise
from wallets import ledger
from wallets.models import Account, Transfer, User, Wallet
from wallets.money import MAX_AMOUNT, format_som
from wallets.sms import send_sms

from .models import Favourite, Payment, format_code

# How long a confirm page may wait before «Оплатить» (a used token keeps working forever:
# it only ever leads back to its payment).
TOKEN_MAX_AGE = 60 * 60
_TOKEN_SALT = "billing.payment-token"
_CODE_ATTEMPTS = 5
FAVOURITES_PER_USER = 50


@dataclass(frozen=True)
class Quote:
    provider: Provider
    account: str
    amount: int
    fee: int
    total: int
    balance_after: int

    @property
    def enough(self) -> bool:
        return self.balance_after >= 0


def _amount_errors(provider: Provider, amount) -> list[str]:
    if not isinstance(amount, int) or isinstance(amount, bool):
        return [_("Enter the amount in som with digits, for example 150 or 150,50.")]
    if amount <= 0:
        return [_("The amount must be greater than zero.")]
    if amount > MAX_AMOUNT:
        return [_("The amount is too large: at most %(max)s.") % {"max": format_som(MAX_AMOUNT)}]
    if amount < provider.min_amount:
        return [
            _("The minimum amount for this service is %(min)s.")
            % {"min": format_som(provider.min_amount)}
        ]
    if amount > provider.max_amount:
        return [
            _("The maximum amount for this service is %(max)s.")
            % {"max": format_som(provider.max_amount)}
        ]
    return []


def payment_quote(*, wallet: Wallet, provider: Provider, account: str, amount: int) -> Quote:
    """Check the account and amount and price the payment; moves nothing.

    Raises ValidationError({"account": [...], "amount": [...]}) in the current language
    (and a non-field error for an inactive provider). `balance_after` may be negative: the
    caller shows it; payment_create refuses it.
    """
    errors: dict[str, list[str]] = {}
    if not provider.active:
        errors[NON_FIELD_ERRORS] = [_("This service is not available now.")]
    try:
        account = provider.validate_account(account)
    except ValidationError as exc:
        errors["account"] = exc.messages
    amount_errors = _amount_errors(provider, amount)
    if amount_errors:
        errors["amount"] = amount_errors
    if errors:
        raise ValidationError(errors)
    fee = provider.fee_for(amount)
    total = amount + fee
    return Quote(
        provider=provider,
        account=account,
        amount=amount,
        fee=fee,
        total=total,
        balance_after=ledger.balance_of(wallet.account) - total,
    )


def payment_token_new(*, wallet: Wallet) -> str:
    """A one-time token for a confirm page, bound to `wallet`, valid TOKEN_MAX_AGE seconds."""
    return signing.TimestampSigner(salt=_TOKEN_SALT).sign(
        f"{wallet.pk}.{secrets.token_urlsafe(12)}"
    )


def _token_error(message: str, code: str) -> ValidationError:
    return ValidationError({NON_FIELD_ERRORS: [ValidationError(message, code=code)]})


def _check_token(wallet: Wallet, token: str) -> None:
    if not isinstance(token, str) or not token or len(token) > 120:
        raise _token_error(_("The payment form is out of date. Check the payment again."), "token")
    signer = signing.TimestampSigner(salt=_TOKEN_SALT)
    try:
        value = signer.unsign(token, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise _token_error(
            _("The confirmation has expired. Check the payment again."), "token_expired"
        ) from None
    except signing.BadSignature:
        raise _token_error(
            _("The payment form is out of date. Check the payment again."), "token"
        ) from None
    if value.split(".", 1)[0] != str(wallet.pk):
        raise _token_error(_("The payment form is out of date. Check the payment again."), "token")


def _same_payment(existing: Payment, wallet, provider, account, amount) -> Payment:
    same = (
        existing.wallet_id == wallet.pk
        and existing.provider_id == provider.pk
        and existing.account == normalise(account)
        and existing.amount == amount
    )
    if not same:
        raise _token_error(
            _("This confirmation was already used for another payment. Check the payment again."),
            "token_reused",
        )
    return existing


def _new_code() -> str:
    # 12 digits, never starting with 0 so that it survives spreadsheets and reading aloud.
    return str(10**11 + secrets.randbelow(9 * 10**11))


def payment_create(
    *,
    wallet: Wallet,
    provider: Provider,
    account: str,
    amount: int,
    token: str,
    channel: str = Payment.Channel.WEB,
) -> Payment:
    """Pay `provider` from `wallet`: hold the total, then settle through the gateway.

    Guarantees: at most one Payment and one hold per `token` — the same token with the same
    values returns that Payment and moves nothing, with other values it raises
    ValidationError; the hold (wallet → suspense, amount + fee) and the Payment row commit
    together in one durable transaction, or neither does (invalid input or an insufficient
    balance raise ValidationError with nothing moved); settlement is a separate step
    (payment_submit), so a gateway is never called while a lock is held.
    """
    existing = Payment.objects.filter(token=token).first() if isinstance(token, str) else None
    if existing is not None:
        return _same_payment(existing, wallet, provider, account, amount)
    _check_token(wallet, token)
    quote = payment_quote(wallet=wallet, provider=provider, account=account, amount=amount)
    suspense = ledger.system_account(Account.Kind.SUSPENSE)
    for _attempt in range(_CODE_ATTEMPTS):
        try:
            with transaction.atomic(durable=True):
                payment = Payment.objects.create(
                    wallet=wallet,
                    provider=provider,
                    account=quote.account,
                    amount=quote.amount,
                    fee=quote.fee,
                    total=quote.total,
                    code=_new_code(),
                    token=token,
                    channel=channel,
                )
                ledger.transfer(
                    debit=wallet.account,
                    credit=suspense,
                    amount=payment.total,
                    key=payment.ledger_key("hold"),
                    kind=Transfer.Kind.PAYMENT_HOLD,
                    memo=payment.memo,
                    created_by=wallet.user,
                )
        except ledger.InsufficientFunds:
            balance = ledger.balance_of(wallet.account)
            raise ValidationError(
                {
                    NON_FIELD_ERRORS: [
                        ValidationError(
                            _(
                                "Not enough money in the wallet: the balance is %(balance)s, "
                                "the payment with the fee is %(total)s. Top up the wallet and "
                                "try again."
                            )
                            % {"balance": format_som(balance), "total": format_som(quote.total)},
                            code="insufficient_funds",
                        )
                    ]
                }
            ) from None
        except IntegrityError:
            # A twin request with the same token committed first: land on its payment.
            existing = Payment.objects.filter(token=token).first()
            if existing is not None:
                return _same_payment(existing, wallet, provider, account, amount)
            continue  # the random code was taken; draw another
        break
    else:  # pragma: no cover - 5 collisions in 9 * 10**11 codes
        raise RuntimeError("could not draw a free payment code")
    return payment_submit(payment=payment)


def payment_submit(*, payment: Payment) -> Payment:
    """Hand a pending payment to its provider's gateway and record the outcome.

    Called after the hold committed and outside any transaction; safe to call again for a
    payment that is still pending (each outcome step is compare-and-set and keyed).
    """
    if payment.status != Payment.Status.PENDING:
        return payment
    outcome = gateway_for(payment.provider).submit(payment)
    if outcome.status == Status.SUCCEEDED:
        return payment_succeed(payment=payment)
    if outcome.status == Status.FAILED:
        return payment_fail(payment=payment, reason=outcome.message)
    return payment


def payment_succeed(*, payment: Payment) -> Payment:
    """pending → succeeded: suspense → provider (amount) and suspense → fees (fee), SMS.

    Guarantees: compare-and-set on the status, so a payment settles at most once; the
    status and both transfers commit together; the SMS goes out only after the commit.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        updated = Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
            status=Payment.Status.SUCCEEDED, settled_at=now, error=""
        )
        if updated:
            suspense = ledger.system_account(Account.Kind.SUSPENSE)
            ledger.transfer(
                debit=suspense,
                credit=payment.provider.account,
                amount=payment.amount,
                key=payment.ledger_key("settle"),
                kind=Transfer.Kind.PAYMENT_SETTLE,
                memo=payment.memo,
            )
            if payment.fee:
                ledger.transfer(
                    debit=suspense,
                    credit=ledger.system_account(Account.Kind.FEES),
                    amount=payment.fee,
                    key=payment.ledger_key("fee"),
                    kind=Transfer.Kind.PAYMENT_FEE,
                    memo=payment.memo,
                )
            transaction.on_commit(lambda: _sms_succeeded(payment.pk))
    payment.refresh_from_db()
    return payment


def payment_fail(*, payment: Payment, reason: str = "") -> Payment:
    """pending (or needs attention) → failed: suspense → wallet (the total), SMS.

    Guarantees: compare-and-set, so a payment is refunded at most once; the status and the
    refund commit together; the SMS goes out only after the commit.
    """
    with transaction.atomic(durable=True):
        updated = Payment.objects.filter(
            pk=payment.pk, status__in=[Payment.Status.PENDING, Payment.Status.NEEDS_ATTENTION]
        ).update(status=Payment.Status.FAILED, settled_at=timezone.now(), error=reason[:255])
        if updated:
            ledger.transfer(
                debit=ledger.system_account(Account.Kind.SUSPENSE),
                credit=payment.wallet.account,
                amount=payment.total,
                key=payment.ledger_key("refund"),
                kind=Transfer.Kind.PAYMENT_REFUND,
                memo=payment.memo,
            )
            transaction.on_commit(lambda: _sms_failed(payment.pk))
    payment.refresh_from_db()
    return payment


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


def _owner_language(payment: Payment) -> str:
    return payment.wallet.user.language or "ru"


def _sms_succeeded(payment_id: int) -> None:
    payment = Payment.objects.select_related("wallet__user", "provider").get(pk=payment_id)
    with translation.override(_owner_language(payment)):
        send_sms(phone=payment.wallet.number, text=payment_sms_text(payment))


def _sms_failed(payment_id: int) -> None:
    payment = Payment.objects.select_related("wallet__user", "provider").get(pk=payment_id)
    with translation.override(_owner_language(payment)):
        text = _(
            "Kapchyk: the payment %(code)s to %(provider)s did not go through; "
            "%(total)s returned to your wallet."
        ) % {
            "code": format_code(payment.code),
            "provider": payment.provider.name,
            "total": format_som(payment.total),
        }
        send_sms(phone=payment.wallet.number, text=text)


# --- Favourites («Избранное») ---


def _clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError({"name": [_("Enter a name for the template.")]})
    if len(name) > 60:
        raise ValidationError({"name": [_("The name can have at most 60 characters.")]})
    return name


def favourite_create(*, user: User, payment: Payment, name: str) -> Favourite:
    """Save `payment` (the user's own) as a template named `name`."""
    if payment.wallet.user_id != user.pk:
        raise ValidationError(_("This payment is not yours."))
    name = _clean_name(name)
    if Favourite.objects.filter(user=user).count() >= FAVOURITES_PER_USER:
        raise ValidationError(
            _("You can keep at most %(n)s templates. Delete one first.")
            % {"n": FAVOURITES_PER_USER}
        )
    return Favourite.objects.create(
        user=user,
        provider_id=payment.provider_id,
        account=payment.account,
        amount=payment.amount,
        name=name,
    )


def favourite_rename(*, favourite: Favourite, name: str) -> Favourite:
    favourite.name = _clean_name(name)
    Favourite.objects.filter(pk=favourite.pk).update(name=favourite.name)
    return favourite


def favourite_delete(*, favourite: Favourite) -> None:
    Favourite.objects.filter(pk=favourite.pk).delete()
