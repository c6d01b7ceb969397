"""One history of a wallet: every operation that moved its money, newest first.

A row is a ledger movement (wallets.models.Transfer) into or out of the wallet's account:
bill payments (the hold), their refunds, QR payments, transfers sent and received, card
top-ups and cash-ins. The operation behind a row is found by its ledger key
(`payment:<code>:hold`, `wallet-transfer:<code>:move`, `qr:<pk>:pay`, `topup:<pk>:credit`):
`describe` fetches the operations of a whole page with one query per kind, so that a page
costs the same number of queries whatever its length. A transfer's fee is its own ledger
leg; the history shows the transfer once, with its total.
"""

import dataclasses

from django import forms
from django.db.models import CharField, Q, Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .forms import PeriodForm
from .models import Transfer, Wallet

# What the filter offers (value, label) and which ledger rows each kind is.
KINDS = [
    ("payment", _("Payments for services")),
    ("qr", _("QR payments")),
    ("sent", _("Transfers sent")),
    ("received", _("Transfers received")),
    ("topup", _("Top-ups")),
    ("refund", _("Refunds")),
]

# The badge of a row: (css class, label). The labels are the payment statuses' words.
PROCESSING = ("pending", _("pending"))
DONE = ("succeeded", _("succeeded"))
REFUND = ("refund", _("refund"))
REJECTED = ("failed", _("rejected"))


def _kind_q(kind: str, account_id: int) -> Q:
    return {
        "payment": Q(kind=Transfer.Kind.PAYMENT_HOLD),
        "qr": Q(idempotency_key__startswith="qr:", debit_id=account_id),
        "sent": Q(kind=Transfer.Kind.WALLET_TRANSFER, debit_id=account_id),
        "received": Q(kind=Transfer.Kind.WALLET_TRANSFER, credit_id=account_id),
        "topup": Q(kind=Transfer.Kind.CASHIN),
        "refund": Q(kind=Transfer.Kind.PAYMENT_REFUND),
    }[kind]


class HistoryForm(PeriodForm):
    """The history's filters: kind, service, period (all optional)."""

    kind = forms.ChoiceField(
        label=_("Operation"),
        required=False,
        choices=[("", _("All operations")), *KINDS],
    )
    provider = forms.ModelChoiceField(
        label=_("Service"), queryset=None, required=False, empty_label=_("All services")
    )

    def __init__(self, *args, providers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers
        self.fields["provider"].label_from_instance = lambda p: p.name
        self.order_fields(["kind", "provider", "date_from", "date_to"])


def rows(wallet: Wallet):
    """The wallet's history rows, newest first (a queryset of ledger transfers)."""
    return (
        Transfer.objects.for_account(wallet.account_id)
        .exclude(kind=Transfer.Kind.TRANSFER_FEE)
        .only("kind", "memo", "amount", "created_at", "credit_id", "debit_id", "idempotency_key")
        .order_by("-created_at", "-id")
    )


def form_for(wallet: Wallet, data) -> HistoryForm:
    from providers.models import Provider

    providers = Provider.objects.filter(payments__wallet=wallet).distinct().order_by("name_ru")
    return HistoryForm(data or None, providers=providers)


def filtered(wallet: Wallet, form: HistoryForm):
    """`rows` limited by a valid form; none for an invalid one; all for an unbound one."""
    queryset = rows(wallet)
    if not form.is_bound:
        return queryset
    if not form.is_valid():
        return queryset.none()
    data = form.cleaned_data
    if data["kind"]:
        queryset = queryset.filter(_kind_q(data["kind"], wallet.account_id))
    if data["provider"]:
        queryset = queryset.filter(_provider_q(wallet, data["provider"]))
    return form.filter_period(queryset)


def _provider_q(wallet, provider) -> Q:
    from billing.models import Payment

    def keys(step):
        return (
            Payment.objects.filter(wallet=wallet, provider=provider)
            .annotate(
                key=Concat(Value("payment:"), "code", Value(f":{step}"), output_field=CharField())
            )
            .values("key")
        )

    return Q(idempotency_key__in=keys("hold")) | Q(idempotency_key__in=keys("refund"))


@dataclasses.dataclass
class Row:
    """A history row as the pages and the statement show it."""

    created_at: object
    incoming: bool
    amount: int  # what left or reached the wallet, tyiyn (positive)
    title: str
    detail: str = ""
    badge: tuple = DONE
    url: str = ""
    logo: str = ""
    code: str = ""
    account: str = ""
    fee: int = 0
    operation_amount: int = 0
    status: str = ""
    kind: str = ""  # the operation's ledger key prefix: payment, wallet-transfer, qr, topup

    @property
    def signed(self) -> int:
        return self.amount if self.incoming else -self.amount

    @property
    def badge_class(self) -> str:
        return self.badge[0]

    @property
    def badge_label(self) -> str:
        return str(self.badge[1])


def _parse(key: str):
    """('payment', code, step), ('wallet-transfer', code, step)… or (None, None, None)."""
    parts = key.split(":")
    if len(parts) == 3 and parts[0] in ("payment", "wallet-transfer", "qr", "topup"):
        return parts[0], parts[1], parts[2]
    return None, None, None


def describe(transfers, wallet: Wallet) -> list[Row]:
    """Rows for ledger transfers of `wallet`: one query per kind of operation among them."""
    from billing.models import Payment
    from cards.models import TopUp
    from qr.models import QrPayment
    from transfers.models import WalletTransfer

    transfers = list(transfers)
    wanted: dict[str, set] = {}
    for transfer in transfers:
        prefix, ref, _step = _parse(transfer.idempotency_key)
        if prefix:
            wanted.setdefault(prefix, set()).add(ref)
    found = {}
    if "payment" in wanted:
        found["payment"] = {
            p.code: p
            for p in Payment.objects.filter(wallet=wallet, code__in=wanted["payment"])
            .select_related("provider")
            .only(
                "code",
                "account",
                "amount",
                "fee",
                "total",
                "status",
                "provider__name_ru",
                "provider__name_ky",
                "provider__slug",
                "provider__logo",
            )
        }
    if "wallet-transfer" in wanted:
        found["wallet-transfer"] = {
            t.code: t
            for t in WalletTransfer.objects.filter(
                Q(sender=wallet) | Q(recipient=wallet), code__in=wanted["wallet-transfer"]
            ).select_related("sender__user", "recipient__user")
        }
    if "qr" in wanted:
        pks = [int(pk) for pk in wanted["qr"] if pk.isdigit()]
        found["qr"] = {
            str(q.pk): q
            for q in QrPayment.objects.filter(wallet=wallet, pk__in=pks).select_related("merchant")
        }
    if "topup" in wanted:
        pks = [int(pk) for pk in wanted["topup"] if pk.isdigit()]
        found["topup"] = {
            str(t.pk): t
            for t in TopUp.objects.filter(wallet=wallet, pk__in=pks).select_related("card")
        }
    return [_row(t, wallet, found) for t in transfers]


def _row(transfer, wallet, found) -> Row:
    from transfers.models import masked_number, short_name

    incoming = transfer.credit_id == wallet.account_id
    row = Row(
        created_at=transfer.created_at,
        incoming=incoming,
        amount=transfer.amount,
        title=transfer.get_kind_display(),
        detail=transfer.memo,
        operation_amount=transfer.amount,
    )
    row.status = str(row.badge[1])
    prefix, ref, _step = _parse(transfer.idempotency_key)
    operation = found.get(prefix, {}).get(ref)
    row.kind = prefix or ""
    if prefix == "payment" and operation:
        row.title, row.detail = operation.provider.name, operation.account
        row.logo, row.url = operation.provider.logo, operation.get_absolute_url()
        row.code, row.account = operation.display_code, operation.account
        row.fee, row.operation_amount = operation.fee, operation.amount
        row.status = operation.get_public_status_display()
        if transfer.kind == Transfer.Kind.PAYMENT_REFUND:
            row.badge, row.status = REFUND, str(REFUND[1])
            refund = gettext("Refund")
            row.detail = f"{refund} · {operation.account}"
        else:
            row.badge = {"pending": PROCESSING, "succeeded": DONE}.get(
                operation.public_status, REJECTED
            )
    elif prefix == "wallet-transfer" and operation:
        sent = operation.sender_id == wallet.pk
        other = operation.recipient if sent else operation.sender
        values = {"name": short_name(other.user)}
        row.title = (
            gettext("Transfer to %(name)s") % values
            if sent
            else gettext("Transfer from %(name)s") % values
        )
        row.detail = row.account = masked_number(other.number)
        row.url, row.code = operation.get_absolute_url(), operation.display_code
        row.status = operation.get_status_display()
        if sent:
            row.amount, row.fee = operation.total, operation.fee
    elif prefix == "qr" and operation:
        row.title, row.detail = operation.merchant.name, gettext("QR payment")
        row.url, row.code = operation.get_absolute_url(), operation.display_code
        row.fee, row.operation_amount = operation.fee, operation.amount
        row.status = operation.get_status_display()
    elif prefix == "topup" and operation:
        row.title = gettext("Top-up from a card")
        row.detail = row.account = operation.card.short
        row.url = reverse("cards:topup_receipt", args=[operation.pk])
        row.fee = operation.fee
    elif transfer.kind == Transfer.Kind.CASHIN:
        row.title = gettext("Top-up")
    return row
