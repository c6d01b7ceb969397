"""Merchants, dynamic codes and paying by QR, on the shared life cycle (wallets.operations):
resolve the code on the server → quote (refusal codes) → a one-time token bound to the
merchant and the amount → one durable transaction: the QrPayment row, its ledger movement
(wallet → the merchant's account, settled at once) and the notifications.
"""

import datetime
import secrets
from dataclasses import dataclass
from functools import cached_property

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wallets import ledger, operations
from wallets.models import Account, Transfer, Wallet

from . import codes, elqr, texts
from .models import DynamicCode, Merchant, QrPayment
from .notify import qr_payment_notify

KIND = "qr"
DYNAMIC_TTL = datetime.timedelta(minutes=15)
_CODE_ATTEMPTS = 5

# Who issued a foreign code, by a word of its provider id (field 32.00); otherwise the id.
BANKS = {
    "mbank": "MBank",
    "dengi": "O!Dengi",
    "elcart": "Элкарт",
    "elkart": "Элкарт",
    "optima": "Optima Bank",
    "demir": "Demir Bank",
    "bakai": "Bakai Bank",
    "kicb": "KICB",
    "rsk": "РСК Банк",
    "aiyl": "Айыл Банк",
    "balance": "Balance.kg",
    "megapay": "MegaPay",
}


# --- Merchants ---


def merchant_create(*, name_ru: str, name_ky: str = "", mcc: str, cashiers=()) -> Merchant:
    """A merchant with its own ledger account for its takings (a hot provider account)."""
    with transaction.atomic():
        account = ledger.open_account(
            kind=Account.Kind.PROVIDER,
            code=f"merchant:{secrets.token_hex(6)}",
            name=name_ru[:200],
        )
        merchant = Merchant.objects.create(
            name_ru=name_ru, name_ky=name_ky, mcc=mcc, account=account
        )
        if cashiers:
            merchant.cashiers.add(*cashiers)
    return merchant


def merchant_static_code(merchant: Merchant) -> elqr.ElqrCode:
    """The merchant's static code: the payer enters the amount."""
    return codes.our_code(
        type="static",
        recipient_id=f"m{merchant.pk}",
        merchant_id=merchant.code_id,
        mcc=merchant.mcc,
        name=merchant.name_ru[:25],
    )


def merchant_link(merchant: Merchant) -> str:
    return codes.link(merchant_static_code(merchant))


# --- Dynamic codes (the cashier page) ---


def dynamic_code_create(*, merchant: Merchant, cashier: Wallet, amount: int) -> DynamicCode:
    """A single-use code for `amount`, valid DYNAMIC_TTL. Only the merchant's cashiers."""
    if not merchant.cashiers.filter(pk=cashier.pk).exists():
        raise operations.refusal("not_cashier", _("Only the merchant's cashiers make codes."))
    problems = operations.amount_problems(amount)
    if problems:
        raise ValidationError({"amount": problems})
    now = timezone.now()
    return DynamicCode.objects.create(
        merchant=merchant,
        transaction_id=secrets.token_hex(10),
        amount=amount,
        created_by=cashier,
        created_at=now,
        expires_at=now + DYNAMIC_TTL,
    )


def dynamic_code_of(dynamic: DynamicCode) -> elqr.ElqrCode:
    merchant = dynamic.merchant
    return codes.our_code(
        type="dynamic",
        recipient_id=f"m{merchant.pk}",
        transaction_id=dynamic.transaction_id,
        amount_editable=False,
        merchant_id=merchant.code_id,
        mcc=merchant.mcc,
        amount=dynamic.amount,
        name=merchant.name_ru[:25],
    )


def dynamic_link(dynamic: DynamicCode) -> str:
    return codes.link(dynamic_code_of(dynamic))


# --- Reading a code: whom it pays ---


def bank_of(code: elqr.ElqrCode) -> str:
    low = code.provider_id.casefold()
    for word, name in BANKS.items():
        if word in low:
            return name
    return code.provider_id


@dataclass(frozen=True)
class Scan:
    """A code read and resolved on the server: our merchant (and a dynamic code's row)."""

    code: elqr.ElqrCode
    link: str
    merchant: Merchant
    dynamic: DynamicCode | None = None

    @property
    def fixed_amount(self) -> int | None:
        """The amount the payer cannot change, or None when the payer enters it."""
        if self.dynamic is not None:
            return self.dynamic.amount
        return self.code.fixed_amount

    @property
    def subject(self) -> str:
        return operations.subject_digest(
            self.merchant.pk, self.dynamic.transaction_id if self.dynamic else ""
        )


def code_read(text: str) -> elqr.ElqrCode:
    """A valid code of ours, read from the text of a QR code (a link or a bare payload).

    Raises a refusal: the codec's reason code (`checksum_mismatch`, ...) worded for the
    payer; `foreign` (another bank's valid code, with `bank` and `name`).
    """
    try:
        code = elqr.parse(text if isinstance(text, str) else "")
    except elqr.ElqrError as exc:
        raise operations.refusal(exc.code, texts.code_error_text(exc.code)) from None
    if not codes.is_ours(code):
        bank, name = bank_of(code), code.name or code.service_name or ""
        payee = f"{bank} — {name}" if name else bank
        raise operations.refusal(
            "foreign",
            _("%(payee)s: this is a code of another bank; it cannot be paid from Kapchyk yet.")
            % {"payee": payee},
            bank=bank,
            name=name,
        )
    return code


def scan_resolve(text: str) -> Scan:
    """Whom the code pays, from our own records (never from its printed name, field 59).

    Raises a refusal: code_read's; `person` (a person's wallet code, with its `number`:
    a transfer, not a payment); `unknown_payee`; `unavailable` (merchant deactivated);
    `expired`; `already_paid`.
    """
    code = code_read(text)
    number = codes.wallet_number_of(code)
    if number is not None:
        # A person's wallet: paid by a transfer (transfers.qr), not as a merchant.
        raise operations.refusal(
            "person",
            _("This is the QR code of a person's wallet: send a transfer to it."),
            number=number,
        )
    merchant = _merchant_of(code)
    if merchant is None:
        raise operations.refusal("unknown_payee", _("We do not know the payee of this QR code."))
    if not merchant.active:
        raise operations.refusal("unavailable", _("This merchant does not take payments now."))
    dynamic = None
    if code.type == "dynamic":
        dynamic = (
            DynamicCode.objects.filter(transaction_id=code.transaction_id or "", merchant=merchant)
            .select_related("merchant")
            .first()
        )
        if dynamic is None or dynamic.amount != code.amount:
            raise operations.refusal(
                "unknown_payee", _("We do not know the payee of this QR code.")
            )
        if QrPayment.objects.filter(transaction_id=dynamic.transaction_id).exists():
            raise already_paid()
        if dynamic.expired:
            raise operations.refusal(
                "expired", _("The code has expired, ask the cashier for a new one.")
            )
    return Scan(code=code, link=text.strip(), merchant=merchant, dynamic=dynamic)


def already_paid() -> ValidationError:
    return operations.refusal("already_paid", _("This code has already been paid."))


def _merchant_of(code: elqr.ElqrCode) -> Merchant | None:
    ref = code.merchant_id or (code.recipient_id or "").removeprefix("m")
    if not ref.isascii() or not ref.isdigit() or len(ref) > 12:
        return None
    return Merchant.objects.select_related("account").filter(pk=int(ref)).first()


# --- Quote, token, payment ---


@dataclass(frozen=True)
class Quote:
    scan: Scan
    wallet: Wallet
    amount: int
    fee: int = 0

    @property
    def merchant(self) -> Merchant:
        return self.scan.merchant

    @property
    def total(self) -> int:
        return self.amount + self.fee

    @cached_property
    def balance_after(self) -> int:
        return ledger.balance_of(self.wallet.account) - self.total

    @property
    def enough(self) -> bool:
        return self.balance_after >= 0


def qr_quote(*, wallet: Wallet, scan: Scan, amount) -> Quote:
    """Check the amount against the code; moves nothing. A code with a fixed amount (dynamic,
    or static not editable) refuses any other amount (`amount_fixed`); `amount` None takes
    the fixed one."""
    amount = amount_of_code(scan.fixed_amount, amount)
    problems = operations.amount_problems(amount)
    if problems:
        raise ValidationError({"amount": problems})
    operations.limits_check(wallet.account, out=amount)  # «Далее» already says it
    return Quote(scan=scan, wallet=wallet, amount=amount, fee=0)


def amount_of_code(fixed: int | None, amount):
    """The amount to pay by a code: its `fixed` amount when it has one (`amount` None takes
    it; another amount is refused, `amount_fixed`), else `amount` as entered."""
    if fixed is None:
        return amount
    if amount is not None and amount != fixed:
        raise operations.refusal(
            "amount_fixed",
            _("The amount of this code is fixed: %(amount)s. It cannot be changed.")
            % {"amount": _som(fixed)},
            field="amount",
            amount=fixed,
        )
    return fixed


def _som(tyiyn: int) -> str:
    from wallets.money import format_som

    return format_som(tyiyn)


def qr_token_new(*, wallet: Wallet, quote: Quote) -> str:
    return operations.token_issue(
        wallet=wallet, kind=KIND, subject=quote.scan.subject, amount=quote.amount, fee=quote.fee
    )


def _same(existing: QrPayment, wallet: Wallet, scan: Scan, amount) -> QrPayment:
    if (existing.wallet_id, existing.merchant_id) != (wallet.pk, scan.merchant.pk) or (
        amount is not None and existing.amount != amount
    ):
        raise operations.token_reused()
    return existing


def _new_code() -> str:
    return str(10**11 + secrets.randbelow(9 * 10**11))


def qr_payment_create(*, wallet: Wallet, link: str, amount, token: str) -> QrPayment:
    """Pay the merchant of the code `link` from `wallet`, as the confirm page bound by `token`
    showed it.

    Guarantees: the code is resolved again (a merchant deactivated since, an expired or paid
    dynamic code are refused); at most one QrPayment per token (the same token again returns
    it and moves nothing) and per dynamic code (its transaction id is unique: a second payer,
    even at the same moment, gets `already_paid`); one durable transaction writes the
    payment, moves wallet → merchant account (settled at once) and queues the notifications.
    Refusals raise ValidationError with nothing moved.
    """
    try:
        scan = scan_resolve(link)
        bound = operations.token_open(wallet=wallet, kind=KIND, token=token)
        quote = qr_quote(wallet=wallet, scan=scan, amount=amount)
        bound.check(subject=scan.subject, amount=quote.amount, fee=quote.fee)
    except ValidationError:
        # A used token leads back to its payment (a double click on a dynamic code's
        # «Оплатить» lands on the receipt, not on «already paid»).
        existing = QrPayment.objects.filter(token=token).first() if token else None
        if existing is not None and existing.wallet_id == wallet.pk:
            return existing
        raise
    txn = scan.dynamic.transaction_id if scan.dynamic else None
    payment = QrPayment(
        wallet=wallet,
        merchant=scan.merchant,
        amount=quote.amount,
        fee=quote.fee,
        total=quote.total,
        token=token,
        transaction_id=txn,
        created_at=timezone.now(),
    )
    for _attempt in range(_CODE_ATTEMPTS):
        payment.pk, payment.code = None, _new_code()
        try:
            with transaction.atomic(durable=True):
                payment.save(force_insert=True)
                ledger.move(
                    [
                        ledger.Leg(
                            wallet.account,
                            scan.merchant.account,
                            payment.total,
                            payment.ledger_key("pay"),
                            Transfer.Kind.OTHER,
                            _memo(payment),
                        )
                    ],
                    created_by=wallet.user_id,
                )
                qr_payment_notify(payment)
        except ledger.LimitExceeded as exc:
            raise operations.limit_exceeded(limit=exc.limit, left=exc.left) from None
        except ledger.InsufficientFunds:
            raise operations.insufficient_funds(
                balance=ledger.balance_of(wallet.account), total=quote.total
            ) from None
        except IntegrityError:
            existing = QrPayment.objects.filter(token=token).first()
            if existing is not None:
                return _same(existing, wallet, scan, quote.amount)
            if txn and QrPayment.objects.filter(transaction_id=txn).exists():
                raise already_paid() from None
            continue  # the random code was taken; draw another
        return payment
    raise RuntimeError("could not draw a free payment code")  # pragma: no cover


def _memo(payment: QrPayment) -> str:
    return f"QR {payment.code}: {payment.merchant.name_ru}"
