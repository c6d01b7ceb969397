from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wallets.models import Wallet
from wallets.operations import Lifecycle
from wallets.phones import format_number


def format_code(code: str) -> str:
    """123456789012 → 1234 5678 9012 (as the receipt and the SMS show it)."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def masked_number(e164: str) -> str:
    """+996555123456 → +996 555 *** 456: enough to recognise, not enough to collect."""
    shown = format_number(e164)
    if len(e164) != 13:
        return shown
    return f"{shown[:8]} *** {shown[-3:]}"


def short_name(user) -> str:
    """«Имя Ф.»: the first name and the initial of the surname, or the masked number when
    no name is known."""
    parts = (user.full_name or "").split()
    if not parts:
        return masked_number(user.phone)
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {parts[1][0]}."


class WalletTransferQuerySet(models.QuerySet):
    def for_user(self, user):
        """Transfers `user` sent or received (what the receipt page may show them)."""
        return self.filter(Q(sender__user=user) | Q(recipient__user=user))


class WalletTransfer(models.Model):
    """Money sent from one wallet to another (wallets.models.Transfer is a ledger row; this
    is the operation). It settles in the transaction that creates it: the wallet → wallet
    leg (and a fee leg) commit with the row, so it is born succeeded."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("completed")

    class Channel(models.TextChoices):
        WEB = "web", _("web")
        USSD = "ussd", _("USSD")

    sender = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, related_name="transfers_sent", verbose_name=_("from")
    )
    recipient = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, related_name="transfers_received", verbose_name=_("to")
    )
    amount = models.BigIntegerField(_("amount, tyiyn"))
    fee = models.BigIntegerField(_("fee, tyiyn"), default=0)
    total = models.BigIntegerField(_("total, tyiyn"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUCCEEDED
    )
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.WEB
    )
    # The confirm page's one-time token: a double click lands on the first transfer.
    token = models.CharField(max_length=120, unique=True, editable=False)
    code = models.CharField(_("transfer code"), max_length=12, unique=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    objects = WalletTransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("wallet transfer")
        verbose_name_plural = _("wallet transfers")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_transfer_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="wallet_transfer_fee"),
            models.CheckConstraint(
                condition=Q(total=F("amount") + F("fee")), name="wallet_transfer_total"
            ),
            models.CheckConstraint(
                condition=~Q(sender=F("recipient")), name="wallet_transfer_not_to_self"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["succeeded"]), name="wallet_transfer_status_known"
            ),
        ]
        indexes = [
            models.Index(fields=["sender", "-created_at"]),
            models.Index(fields=["recipient", "-created_at"]),
        ]

    def __str__(self):
        return self.display_code

    def get_absolute_url(self):
        return reverse("transfers:receipt", args=[self.code])

    @property
    def display_code(self) -> str:
        return format_code(self.code)

    @property
    def memo(self) -> str:
        """How it reads in both wallets' history: each sees the other's short name."""
        return f"{short_name(self.sender.user)} → {short_name(self.recipient.user)}"

    def ledger_key(self, step: str) -> str:
        return f"wallet-transfer:{self.code}:{step}"


# A transfer settles in the commit that creates it: succeeded is its only, final status.
LIFECYCLE = Lifecycle(WalletTransfer, {WalletTransfer.Status.SUCCEEDED: set()})
