"""Payments from a wallet to a provider, and saved payment templates («Избранное»)."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def format_code(code: str) -> str:
    """'123456789012' → '1234 5678 9012' (easy to read aloud)."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


class PaymentQuerySet(models.QuerySet):
    def for_wallet(self, wallet):
        return self.filter(wallet=wallet)

    def for_user(self, user):
        return self.filter(wallet__user=user)

    def recent(self):
        return self.select_related("provider", "provider__category").order_by("-created_at", "-id")

    def pending(self):
        return self.filter(status=Payment.Status.PENDING)

    def due(self, now=None):
        """Pending payments whose next attempt is due (a crash left them unsent, a retry's
        backoff is over, or a worker's lease ran out)."""
        now = now or timezone.now()
        return self.filter(status=Payment.Status.PENDING).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )

    def needing_attention(self):
        return self.filter(status=Payment.Status.NEEDS_ATTENTION)

    def registered(self, *, provider, day):
        """Succeeded payments to `provider` made on `day` (local date): its daily registry."""
        tz = timezone.get_current_timezone()
        start = datetime.datetime.combine(day, datetime.time.min, tz)
        end = start + datetime.timedelta(days=1)
        return self.filter(
            provider=provider,
            status=Payment.Status.SUCCEEDED,
            created_at__gte=start,
            created_at__lt=end,
        ).order_by("created_at", "id")


class Payment(models.Model):
    """One payment: held wallet → suspense on «Оплатить», then settled by the gateway.

    `total` = `amount` + `fee`, all in tyiyn. Ledger keys: payment:<code>:hold, :settle,
    :fee, :refund (see billing.services).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        NEEDS_ATTENTION = "needs_attention", _("needs attention")

    class Channel(models.TextChoices):
        WEB = "web", _("web")
        USSD = "ussd", _("USSD")
        ADMIN = "admin", _("admin")

    wallet = models.ForeignKey(
        "wallets.Wallet",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("wallet"),
    )
    provider = models.ForeignKey(
        "providers.Provider",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("provider"),
    )
    account = models.CharField(_("account"), max_length=64)
    amount = models.BigIntegerField(_("amount, tyiyn"))
    fee = models.BigIntegerField(_("fee, tyiyn"), default=0)
    total = models.BigIntegerField(_("total, tyiyn"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    code = models.CharField(_("payment code"), max_length=12, unique=True)
    token = models.CharField(_("one-time token"), max_length=120, unique=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.WEB
    )
    error = models.CharField(_("gateway message"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)
    # Settlement through the gateway (see billing.services.payment_attempt).
    attempts = models.PositiveIntegerField(_("pay attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    result_code = models.SmallIntegerField(_("provider's result code"), null=True, blank=True)
    gateway_txn = models.CharField(_("provider's transaction"), max_length=64, blank=True)
    holder = models.CharField(_("account holder"), max_length=200, blank=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="payment_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(total=F("amount") + F("fee")), name="payment_total_is_amount_plus_fee"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "succeeded", "failed", "needs_attention"]),
                name="payment_status_known",
            ),
            # Settled exactly when final.
            models.CheckConstraint(
                condition=Q(status__in=["succeeded", "failed"], settled_at__isnull=False)
                | (~Q(status__in=["succeeded", "failed"]) & Q(settled_at__isnull=True)),
                name="payment_settled_when_final",
            ),
        ]
        indexes = [
            models.Index(fields=["wallet", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"], name="payment_due"),
            models.Index(fields=["provider", "created_at"], name="payment_provider_day"),
        ]
        # Staff actions that move money, each its own permission (groups: wallets.staff).
        permissions = [
            ("refund_payment", _("Can refund a payment")),
            ("retry_payment", _("Can retry a payment")),
        ]

    def __str__(self):
        return self.display_code

    def get_absolute_url(self):
        return reverse("billing:receipt", args=[self.code])

    @property
    def display_code(self) -> str:
        return format_code(self.code)

    @property
    def public_status(self) -> str:
        """The status as the payer sees it: «needs attention» is staff's business, the payer
        sees the payment still being processed."""
        if self.status == self.Status.NEEDS_ATTENTION:
            return self.Status.PENDING
        return self.status

    def get_public_status_display(self) -> str:
        return str(self.Status(self.public_status).label)

    @property
    def failure_reason(self) -> str:
        """Why the provider refused the payment, in the current language ("" if unknown)."""
        from .results import MESSAGES

        if self.status != self.Status.FAILED or self.result_code not in MESSAGES:
            return ""
        return str(MESSAGES[self.result_code])

    @property
    def txn_id(self) -> int:
        """Our id of the payment at the provider (OSMP txn_id): the primary key, which the
        database never hands out twice (a sequence; AUTOINCREMENT on SQLite)."""
        return self.pk

    @property
    def memo(self) -> str:
        """How the payment reads in the ledger and the mini statement."""
        return f"{self.provider.name_ru} {self.account}"

    def ledger_key(self, step: str) -> str:
        return f"payment:{self.code}:{step}"


# Which status may follow which (wallets.operations.Lifecycle); the services move a payment
# only along these, by compare-and-set, and PostgreSQL refuses any other change (a trigger,
# migration 0004). succeeded and failed are final.
TRANSITIONS = {
    Payment.Status.PENDING: {
        Payment.Status.PENDING,  # the next attempt, later
        Payment.Status.SUCCEEDED,
        Payment.Status.FAILED,
        Payment.Status.NEEDS_ATTENTION,
    },
    Payment.Status.NEEDS_ATTENTION: {
        Payment.Status.PENDING,  # staff: try again
        Payment.Status.SUCCEEDED,
        Payment.Status.FAILED,  # staff: refund
    },
    Payment.Status.SUCCEEDED: set(),
    Payment.Status.FAILED: set(),
}


class PaymentAttempt(models.Model):
    """One request to the provider for a payment and its answer: an attempt is a row, never
    an overwritten field. Unique per (payment, number)."""

    class Kind(models.TextChoices):
        PAY = "pay", _("pay")
        REFUND_CHECK = "refund_check", _("asked before a refund")

    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, related_name="attempt_rows", verbose_name=_("payment")
    )
    number = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PAY)
    sent_at = models.DateTimeField(_("sent"))
    duration_ms = models.PositiveIntegerField(_("duration, ms"))
    outcome = models.CharField(_("outcome"), max_length=16)
    result_code = models.SmallIntegerField(_("provider's result code"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=255, blank=True)
    reference = models.CharField(_("provider's transaction"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["payment", "number"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "number"], name="attempt_unique_number"),
        ]

    def __str__(self):
        return f"{self.payment_id} #{self.number}: {self.outcome}"


class FavouriteQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user).select_related("provider").order_by("name", "id")


class Favourite(models.Model):
    """A saved payment template: provider, account and amount under a name of the owner's."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites"
    )
    provider = models.ForeignKey(
        "providers.Provider", on_delete=models.CASCADE, related_name="+", verbose_name=_("provider")
    )
    account = models.CharField(_("account"), max_length=64)
    amount = models.BigIntegerField(_("amount, tyiyn"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=60)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = FavouriteQuerySet.as_manager()

    class Meta:
        verbose_name = _("favourite")
        verbose_name_plural = _("favourites")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0),
                name="favourite_amount_positive",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("billing:favourite_use", args=[self.pk])
