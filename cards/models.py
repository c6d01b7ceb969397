"""Bank cards linked to a wallet (by a held amount) and top-ups from them.

A Card row never holds the card's full number or its CVV: only the acquirer's token, the
masked number (first 6 and last 4 digits), the expiry, the name and the brand — and, while
it is being linked, a keyed hash of the held amount (never the amount itself).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CardQuerySet(models.QuerySet):
    def for_wallet(self, wallet):
        return self.filter(wallet=wallet)

    def linked(self):
        return self.filter(status=Card.Status.LINKED)

    def open(self):
        return self.filter(status__in=[Card.Status.LINKING, Card.Status.LINKED])


class Card(models.Model):
    class Status(models.TextChoices):
        LINKING = "linking", _("waiting for the held amount")
        LINKED = "linked", _("linked")
        FAILED = "failed", _("linking failed")
        EXPIRED = "expired", _("linking expired")
        REMOVED = "removed", _("removed")

    class Brand(models.TextChoices):
        ELCART = "elcart", "Элкарт"
        VISA = "visa", "Visa"
        MASTERCARD = "mastercard", "Mastercard"

    class Hold(models.TextChoices):
        NONE = "none", _("nothing held")
        HELD = "held", _("held")
        VOID_DUE = "void_due", _("to be voided")
        VOIDED = "voided", _("voided")

    wallet = models.ForeignKey(
        "wallets.Wallet", on_delete=models.PROTECT, related_name="cards", verbose_name=_("wallet")
    )
    name = models.CharField(_("card name"), max_length=40)
    brand = models.CharField(_("brand"), max_length=12, choices=Brand.choices)
    masked = models.CharField(_("card number"), max_length=19)  # 941701******0014
    exp_month = models.PositiveSmallIntegerField(_("expiry month"))
    exp_year = models.PositiveSmallIntegerField(_("expiry year"))
    # A keyed hash (HMAC, the site's secret) of the number: «already linked» without it.
    fingerprint = models.CharField(max_length=64, editable=False)
    token = models.CharField(_("acquirer's token"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.LINKING
    )
    hold_state = models.CharField(_("hold"), max_length=10, choices=Hold.choices, default=Hold.NONE)
    # A salted, keyed hash of the held amount (cards.services.amount_digest).
    amount_salt = models.CharField(max_length=32, blank=True, editable=False)
    amount_hash = models.CharField(max_length=64, blank=True, editable=False)
    tries = models.PositiveSmallIntegerField(_("wrong amounts typed"), default=0)
    reason = models.CharField(_("reason"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    linked_at = models.DateTimeField(_("linked"), null=True, blank=True)

    objects = CardQuerySet.as_manager()

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open linking or linked card per number and wallet.
            models.UniqueConstraint(
                fields=["wallet", "fingerprint"],
                condition=Q(status__in=["linking", "linked"]),
                name="card_open_once_per_wallet",
            ),
            models.CheckConstraint(condition=Q(tries__lte=3), name="card_tries_at_most_3"),
            models.CheckConstraint(
                condition=Q(exp_month__gte=1, exp_month__lte=12), name="card_exp_month_valid"
            ),
        ]

    def __str__(self):
        return f"{self.get_brand_display()} {self.short}"

    @property
    def short(self) -> str:
        return f"•••• {self.masked[-4:]}"

    @property
    def hold_key(self) -> str:
        return f"card:{self.pk}:hold"

    @property
    def expiry(self) -> str:
        return f"{self.exp_month:02d}/{self.exp_year % 100:02d}"


class TopUpQuerySet(models.QuerySet):
    def for_wallet(self, wallet):
        return self.filter(wallet=wallet)

    def due(self, now=None):
        now = now or timezone.now()
        return self.filter(status=TopUp.Status.PENDING).filter(
            Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        )

    def needing_attention(self):
        return self.filter(status=TopUp.Status.NEEDS_ATTENTION)


class TopUp(models.Model):
    """A top-up of a wallet from a linked card: charged by the acquirer, then credited
    acquiring → wallet (ledger key topup:<pk>:credit), once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SUCCEEDED = "succeeded", _("succeeded")
        DECLINED = "declined", _("declined")
        NEEDS_ATTENTION = "needs_attention", _("needs attention")

    wallet = models.ForeignKey(
        "wallets.Wallet", on_delete=models.PROTECT, related_name="topups", verbose_name=_("wallet")
    )
    card = models.ForeignKey(
        Card, on_delete=models.PROTECT, related_name="topups", verbose_name=_("card")
    )
    amount = models.BigIntegerField(_("amount, tyiyn"))
    fee = models.BigIntegerField(_("fee, tyiyn"), default=0)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    token = models.CharField(_("one-time token"), max_length=120, unique=True)
    reason = models.CharField(_("acquirer's reason"), max_length=100, blank=True)
    reference = models.CharField(_("acquirer's reference"), max_length=64, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    settled_at = models.DateTimeField(_("settled"), null=True, blank=True)

    objects = TopUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("top-up from a card")
        verbose_name_plural = _("top-ups from cards")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="topup_amount_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="topup_fee_not_negative"),
            models.CheckConstraint(
                condition=Q(status__in=["succeeded", "declined"], settled_at__isnull=False)
                | (~Q(status__in=["succeeded", "declined"]) & Q(settled_at__isnull=True)),
                name="topup_settled_when_final",
            ),
        ]
        permissions = [("retry_topup", _("Can retry a top-up from a card"))]

    def __str__(self):
        return f"top-up {self.pk}"

    @property
    def key(self) -> str:
        """Our idempotency key at the acquirer (the charge) and the ledger's prefix."""
        return f"topup:{self.pk}"

    @property
    def memo(self) -> str:
        return f"Пополнение с карты {self.card.short}"


TRANSITIONS = {
    TopUp.Status.PENDING: {
        TopUp.Status.PENDING,
        TopUp.Status.SUCCEEDED,
        TopUp.Status.DECLINED,
        TopUp.Status.NEEDS_ATTENTION,
    },
    TopUp.Status.NEEDS_ATTENTION: {
        TopUp.Status.PENDING,
        TopUp.Status.SUCCEEDED,
        TopUp.Status.DECLINED,
    },
    TopUp.Status.SUCCEEDED: set(),
    TopUp.Status.DECLINED: set(),
}


class TopUpAttempt(models.Model):
    """One request to the acquirer for a top-up and its answer (a row, never an
    overwritten field), like billing.models.PaymentAttempt."""

    topup = models.ForeignKey(
        TopUp, on_delete=models.CASCADE, related_name="attempt_rows", verbose_name=_("top-up")
    )
    number = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=16)  # charge | status
    sent_at = models.DateTimeField(_("sent"))
    duration_ms = models.PositiveIntegerField(_("duration, ms"))
    outcome = models.CharField(_("outcome"), max_length=16)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    reference = models.CharField(_("acquirer's reference"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["topup", "number"]
        constraints = [
            models.UniqueConstraint(fields=["topup", "number"], name="topup_attempt_unique_number"),
        ]

    def __str__(self):
        return f"{self.topup_id} #{self.number}: {self.outcome}"
