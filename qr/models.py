"""Merchants, their dynamic codes and the payments made by QR.

A merchant's takings land on its own ledger account (kind provider: a hot account, so that
thirty payers at once never queue on one row). Its static code names it by id (field 33.00);
a dynamic code is a row here with its own transaction id, single use: the unique
transaction id of QrPayment is what lets only one payer through, whatever the timing.
"""

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from wallets.models import Account, Wallet

MCC_VALIDATOR = RegexValidator(r"^[0-9]{4}\Z", _("The MCC has 4 digits."))


class MerchantQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def for_cashier(self, wallet):
        return self.filter(cashiers=wallet)


class Merchant(models.Model):
    """A shop or café that takes payments by QR code."""

    name_ru = models.CharField(_("name (Russian)"), max_length=100)
    name_ky = models.CharField(_("name (Kyrgyz)"), max_length=100, blank=True)
    mcc = models.CharField(_("MCC"), max_length=4, validators=[MCC_VALIDATOR])
    account = models.OneToOneField(
        Account,
        on_delete=models.PROTECT,
        related_name="merchant",
        verbose_name=_("ledger account"),
        editable=False,
    )
    active = models.BooleanField(_("active"), default=True)
    cashiers = models.ManyToManyField(
        Wallet, blank=True, related_name="merchants", verbose_name=_("cashier wallets")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MerchantQuerySet.as_manager()

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        constraints = [
            models.CheckConstraint(condition=Q(mcc__regex=r"^[0-9]{4}$"), name="merchant_mcc"),
        ]

    def __str__(self):
        return self.name_ru

    def get_absolute_url(self):
        return reverse("qr:cashier", args=[self.pk])

    @property
    def name(self) -> str:
        if get_language() == "ky" and self.name_ky:
            return self.name_ky
        return self.name_ru

    @property
    def code_id(self) -> str:
        """The merchant's id in its codes (field 33.00)."""
        return str(self.pk)


class DynamicCodeQuerySet(models.QuerySet):
    def recent(self):
        return self.order_by("-created_at", "-pk")


class DynamicCode(models.Model):
    """A single-use code for one amount, made by a cashier; valid until `expires_at`."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="dynamic_codes", verbose_name=_("merchant")
    )
    transaction_id = models.CharField(_("transaction id"), max_length=32, unique=True)
    amount = models.BigIntegerField(_("amount, tyiyn"))
    created_by = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, related_name="+", verbose_name=_("cashier")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))

    objects = DynamicCodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("dynamic code")
        verbose_name_plural = _("dynamic codes")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="dynamic_code_amount_positive"),
        ]

    def __str__(self):
        return self.transaction_id

    @property
    def expired(self) -> bool:
        return timezone.now() >= self.expires_at


class QrPaymentQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(wallet__user=user)

    def for_merchant(self, merchant):
        return self.filter(merchant=merchant)

    def recent(self):
        return self.select_related("merchant", "wallet").order_by("-created_at", "-pk")


class QrPayment(models.Model):
    """A payment to a merchant by its QR code: settled at once (the money stays with us)."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("paid")

    code = models.CharField(_("payment code"), max_length=12, unique=True)
    token = models.CharField(max_length=200, unique=True, editable=False)
    wallet = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, related_name="qr_payments", verbose_name=_("wallet")
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="payments", verbose_name=_("merchant")
    )
    amount = models.BigIntegerField(_("amount, tyiyn"))
    fee = models.BigIntegerField(_("fee, tyiyn"), default=0)
    total = models.BigIntegerField(_("total, tyiyn"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUCCEEDED
    )
    # A dynamic code's transaction id: unique, so that a code is paid once, even by two
    # payers at the same moment (the second insert waits for the first and fails).
    transaction_id = models.CharField(
        _("transaction id"), max_length=32, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    objects = QrPaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("QR payment")
        verbose_name_plural = _("QR payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="qr_payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(total=models.F("amount") + models.F("fee")), name="qr_payment_total"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "-created_at"])]

    def __str__(self):
        return self.display_code

    def get_absolute_url(self):
        return reverse("qr:receipt", args=[self.code])

    @property
    def display_code(self) -> str:
        return " ".join(self.code[i : i + 4] for i in range(0, len(self.code), 4))

    def ledger_key(self, what: str) -> str:
        return f"qr:{self.pk}:{what}"
