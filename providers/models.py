"""The catalogue: categories («Услуги → Другие») and the providers a wallet can pay.

A provider's account rule is data, not code: a regular expression plus optional named
validators from `providers.validators.VALIDATORS` (comma-separated in
`account_validators`). Error messages come from the provider's hint in the user's language.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from wallets.money import MAX_AMOUNT

from . import validators as named
from .search import Fold, fold


def _pick(obj, field):
    """The `<field>_ky` or `<field>_ru` value for the current language (ru when ky is empty)."""
    if get_language() == "ky":
        value = getattr(obj, f"{field}_ky")
        if value:
            return value
    return getattr(obj, f"{field}_ru")


class CategoryQuerySet(models.QuerySet):
    def ordered(self):
        return self.order_by("position", "name_ru")

    def for_ussd(self):
        """Categories reachable from *900#, in menu order."""
        return self.filter(ussd_number__isnull=False).order_by("ussd_number")


class Category(models.Model):
    name_ky = models.CharField(_("name (Kyrgyz)"), max_length=100)
    name_ru = models.CharField(_("name (Russian)"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    icon = models.CharField(
        _("icon"), max_length=200, blank=True, help_text=_("Static path, e.g. icons/mobile.svg")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    ussd_number = models.PositiveSmallIntegerField(
        _("USSD number"), null=True, blank=True, unique=True
    )
    ussd_name = models.CharField(
        _("USSD menu name"),
        max_length=24,
        blank=True,
        help_text=_("Name in the *900# menu, e.g. Другие услуги; the web name when empty."),
    )

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name_ru"]

    def __str__(self):
        return self.name_ru

    def get_absolute_url(self):
        return reverse("providers:category", args=[self.slug])

    @property
    def name(self):
        return _pick(self, "name")

    @property
    def menu_name(self):
        """The name for the USSD menu (the operators' menu names it «Другие услуги»)."""
        return self.ussd_name or self.name


class ProviderQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def ordered(self):
        return self.order_by("position", "name_ru")

    def search(self, text: str):
        """Providers whose name in either language contains `text` (case-insensitive)."""
        text = " ".join((text or "").split())
        if not text:
            return self.none()
        text = fold(text)
        return self.alias(
            fold_ru=Fold("name_ru"), fold_ky=Fold("name_ky"), fold_ussd=Fold("ussd_name")
        ).filter(
            Q(fold_ru__contains=text) | Q(fold_ky__contains=text) | Q(fold_ussd__contains=text)
        )

    def for_ussd(self, category):
        """A category's providers reachable from *900#, in menu order."""
        return (
            self.active()
            .filter(category=category, ussd_number__isnull=False)
            .order_by("ussd_number")
        )


class Provider(models.Model):
    class Gateway(models.TextChoices):
        INTERNAL = "internal", _("internal (settled at once)")
        OSMP = "osmp", _("OSMP check/pay over HTTP")

    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="providers", verbose_name=_("category")
    )
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name_ky = models.CharField(_("name (Kyrgyz)"), max_length=100)
    name_ru = models.CharField(_("name (Russian)"), max_length=100)
    ussd_name = models.CharField(
        _("USSD menu name"),
        max_length=24,
        blank=True,
        help_text=_("Short name for the *900# menu, e.g. Достэк; the Russian name when empty."),
    )
    logo = models.CharField(
        _("logo"), max_length=200, blank=True, help_text=_("Static path, e.g. logos/dostek.svg")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    account_label_ky = models.CharField(_("account label (Kyrgyz)"), max_length=100)
    account_label_ru = models.CharField(_("account label (Russian)"), max_length=100)
    account_hint_ky = models.CharField(_("account hint (Kyrgyz)"), max_length=300, blank=True)
    account_hint_ru = models.CharField(_("account hint (Russian)"), max_length=300, blank=True)
    account_regex = models.CharField(
        _("account rule (regular expression)"),
        max_length=200,
        default=r"\d{1,30}",
        help_text=_("The whole account must match, e.g. \\d{14} for a 14-digit INN."),
    )
    account_validators = models.CharField(
        _("named account checks"),
        max_length=200,
        blank=True,
        help_text=named.help_text,
        validators=[named.validate_names],
    )
    min_amount = models.BigIntegerField(
        _("minimum amount, tyiyn"), default=100, validators=[MinValueValidator(1)]
    )
    max_amount = models.BigIntegerField(
        _("maximum amount, tyiyn"),
        default=MAX_AMOUNT,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_AMOUNT)],
    )
    fee_fixed = models.BigIntegerField(
        _("fixed fee, tyiyn"), default=0, validators=[MinValueValidator(0)]
    )
    fee_percent = models.DecimalField(
        _("fee, percent"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("50"))],
    )
    gateway = models.CharField(
        _("gateway"), max_length=20, choices=Gateway.choices, default=Gateway.INTERNAL
    )
    endpoint_url = models.URLField(
        _("endpoint URL"),
        max_length=300,
        blank=True,
        help_text=_("The provider's OSMP address, e.g. https://pay.hoster.kg/osmp"),
    )
    login = models.CharField(
        _("login"), max_length=100, blank=True, help_text=_("For basic auth; empty: none.")
    )
    password = models.CharField(_("password"), max_length=200, blank=True)
    timeout = models.DecimalField(
        _("timeout, seconds"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("10"),
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(Decimal("120"))],
        help_text=_("How long to wait for one answer."),
    )
    retry_budget = models.PositiveSmallIntegerField(
        _("retry budget"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("Pay attempts before the payment is left to staff (needs attention)."),
    )
    ussd_number = models.PositiveSmallIntegerField(_("USSD number"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    account = models.OneToOneField(
        "wallets.Account",
        on_delete=models.PROTECT,
        related_name="provider",
        verbose_name=_("ledger account"),
    )

    objects = ProviderQuerySet.as_manager()

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["position", "name_ru"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "ussd_number"],
                condition=Q(ussd_number__isnull=False),
                name="provider_ussd_number_unique_in_category",
            ),
            models.CheckConstraint(
                condition=Q(min_amount__gte=1) & Q(max_amount__gte=models.F("min_amount")),
                name="provider_amount_range",
            ),
            models.CheckConstraint(
                condition=Q(fee_fixed__gte=0) & Q(fee_percent__gte=0) & Q(fee_percent__lte=50),
                name="provider_fee_range",
            ),
            models.CheckConstraint(
                condition=Q(timeout__gt=0) & Q(retry_budget__gte=1),
                name="provider_gateway_limits",
            ),
        ]

    def __str__(self):
        return self.name_ru

    def get_absolute_url(self):
        return reverse("billing:pay", args=[self.slug])

    @property
    def name(self):
        return _pick(self, "name")

    @property
    def account_label(self):
        return _pick(self, "account_label")

    @property
    def account_hint(self):
        return _pick(self, "account_hint")

    @property
    def menu_name(self):
        """The name for the USSD menu."""
        return self.ussd_name or self.name_ru

    @property
    def validator_names(self) -> list[str]:
        return named.split_names(self.account_validators)

    def clean(self):
        super().clean()
        if self.min_amount and self.max_amount and self.min_amount > self.max_amount:
            raise ValidationError(
                {"max_amount": _("The maximum amount is below the minimum amount.")}
            )
        try:
            named.compile_rule(self.account_regex)
        except ValueError:
            raise ValidationError(
                {"account_regex": _("This is not a valid regular expression.")}
            ) from None
        if self.gateway == self.Gateway.OSMP and not self.endpoint_url:
            raise ValidationError({"endpoint_url": _("An OSMP provider needs its endpoint URL.")})

    def validate_account(self, value) -> str:
        """The normalised account (spaces and dashes removed), or ValidationError.

        The messages are in the current language and end with the provider's hint.
        """
        return named.check_account(
            value,
            regex=self.account_regex,
            names=self.validator_names,
            hint=self.account_hint,
        )

    def fee_for(self, amount: int) -> int:
        """The payer's fee in tyiyn for `amount` tyiyn: fixed + percent, rounded half up."""
        percent = (Decimal(amount) * Decimal(self.fee_percent) / Decimal(100)).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
        return int(self.fee_fixed) + int(percent)
