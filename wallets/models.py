from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .phones import format_number


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, phone, password=None, **extra):
        """A user whose number is stored in E.164 however it was typed (0555 123 456 too)."""
        from django.core.exceptions import ValidationError

        from .phones import normalize_wallet_number

        try:
            phone = normalize_wallet_number(phone)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        if extra.get("email"):
            extra["email"] = self.normalize_email(extra["email"])
        user = self.model(phone=phone, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        extra.setdefault("phone_verified", True)
        return self.create_user(phone, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A wallet owner or a staff member, identified by a mobile number in E.164."""

    phone = models.CharField(_("mobile number"), max_length=16, unique=True)
    phone_verified = models.BooleanField(_("number verified"), default=False)
    email = models.EmailField(_("email"), blank=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    personal_inn = models.CharField(_("personal INN"), max_length=14, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )
    offer_version = models.ForeignKey(
        "wallets.Offer",
        verbose_name=_("accepted offer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    offer_accepted_at = models.DateTimeField(_("offer accepted at"), null=True, blank=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # Mixed into the session hash: a new value ends every session signed in before it
    # (services.sessions_end_others). Empty keeps Django's own hash.
    session_salt = models.CharField(max_length=32, blank=True, default="", editable=False)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return format_number(self.phone)

    def get_full_name(self):
        return self.full_name or str(self)

    def get_short_name(self):
        return self.full_name or str(self)

    def _get_session_auth_hash(self, secret=None):
        # Django's hash of the password (both get_session_auth_hash and the SECRET_KEY
        # fallbacks go through here), with session_salt appended when set.
        return salted_hmac(
            "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash",
            self.password + self.session_salt,
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class OfferQuerySet(models.QuerySet):
    def current(self):
        return self.filter(published_at__lte=timezone.now()).order_by("-version").first()


class Offer(models.Model):
    """A version of the public offer (the wallet's terms), shown at /offer/."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    title_ky = models.CharField(_("title (Kyrgyz)"), max_length=200)
    title_ru = models.CharField(_("title (Russian)"), max_length=200)
    body_ky = models.TextField(_("text (Kyrgyz)"))
    body_ru = models.TextField(_("text (Russian)"))
    published_at = models.DateTimeField(_("published at"), default=timezone.now)

    objects = OfferQuerySet.as_manager()

    class Meta:
        verbose_name = _("public offer")
        verbose_name_plural = _("public offer versions")
        ordering = ["-version"]

    def __str__(self):
        return f"v{self.version}: {self.title_ru}"

    @property
    def title(self):
        return self.title_ky if get_language() == "ky" else self.title_ru

    @property
    def body(self):
        return self.body_ky if get_language() == "ky" else self.body_ru


class Account(models.Model):
    """A ledger account. Balances are integer tyiyn (1 som = 100 tyiyn).

    `balance` is changed only by wallets/ledger.py. For "hot" system accounts (suspense,
    providers, fees, cash-in) credits and debits are appended as LedgerEntry rows and
    folded into `balance` in batches, so that no single row serialises all payments;
    their true balance is `balance` + the sum of their unfolded entries.
    """

    class Kind(models.TextChoices):
        WALLET = "wallet", _("wallet")
        PROVIDER = "provider", _("provider")
        CASHIN = "cashin", _("cash-in desk")
        FEES = "fees", _("fees")
        SUSPENSE = "suspense", _("suspense")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    balance = models.BigIntegerField(_("balance, tyiyn"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # A wallet account's limits, copied from its wallet's Level (wallets.limits), and its
    # running totals for the current day and month in Asia/Bishkek: wallets/ledger.py
    # checks and updates them in the same conditional UPDATE that moves the balance. A
    # total belongs to the period in its key; a movement in a later period starts it at 0.
    limit_operation = models.BigIntegerField(null=True, blank=True, editable=False)
    limit_out_day = models.BigIntegerField(null=True, blank=True, editable=False)
    limit_out_month = models.BigIntegerField(null=True, blank=True, editable=False)
    limit_in_month = models.BigIntegerField(null=True, blank=True, editable=False)
    limit_balance = models.BigIntegerField(null=True, blank=True, editable=False)
    day_key = models.DateField(null=True, blank=True, editable=False)
    out_day = models.BigIntegerField(default=0, editable=False)
    month_key = models.DateField(null=True, blank=True, editable=False)
    out_month = models.BigIntegerField(default=0, editable=False)
    in_month = models.BigIntegerField(default=0, editable=False)
    # Moves on with every change of what the account's history shows: each movement of a
    # wallet (the ledger's UPDATE) and each change of an operation that moved nothing of the
    # wallet's (a pending payment settled: ledger.history_changed). Pages key what they
    # render of the history on it (the cabinet's recent operations).
    version = models.BigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="wallet") | Q(balance__gte=0),
                name="wallet_balance_not_negative",
            ),
        ]

    def __str__(self):
        return self.name or self.code

    @property
    def is_hot(self):
        return self.kind != self.Kind.WALLET


class TransferQuerySet(models.QuerySet):
    def for_account(self, account):
        return self.filter(Q(debit=account) | Q(credit=account))


class Transfer(models.Model):
    """Money moved from `debit` to `credit`. Append-only; the only way money moves."""

    class Kind(models.TextChoices):
        CASHIN = "cashin", _("top-up")
        PAYMENT_HOLD = "payment_hold", _("payment")
        PAYMENT_SETTLE = "payment_settle", _("payment to provider")
        PAYMENT_FEE = "payment_fee", _("payment fee")
        PAYMENT_REFUND = "payment_refund", _("refund")
        WALLET_TRANSFER = "wallet_transfer", _("money transfer")
        TRANSFER_FEE = "transfer_fee", _("transfer fee")
        OTHER = "other", _("other")

    # No index of their own: the (debit, -created_at) and (credit, -created_at) indexes below
    # serve every look-up by account, and each index more is written by every transfer.
    debit = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="debits",
        verbose_name=_("from"),
        db_index=False,
    )
    credit = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="credits",
        verbose_name=_("to"),
        db_index=False,
    )
    amount = models.BigIntegerField(_("amount, tyiyn"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(
                condition=~Q(debit=models.F("credit")), name="transfer_distinct_accounts"
            ),
        ]
        indexes = [
            models.Index(fields=["debit", "-created_at"]),
            models.Index(fields=["credit", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.debit} → {self.credit}: {self.amount}"


class LedgerEntry(models.Model):
    """A not-yet-folded change of a hot account's balance (see Account)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    delta = models.BigIntegerField()
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="entry_delta_not_zero"),
        ]

    def __str__(self):
        return f"{self.account_id}: {self.delta:+d}"


def _limit(verbose):
    return models.BigIntegerField(
        verbose,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("In tyiyn (1 som = 100 tyiyn); empty: no limit."),
    )


class Level(models.Model):
    """An identification level and its e-money limits (integer tyiyn, empty: no limit).

    Product rules, set up by staff; every wallet has one. Its limits are copied onto the
    ledger accounts of its wallets (wallets.limits.level_sync) so the ledger checks them
    in the statement that moves the money.
    """

    name_ky = models.CharField(_("name (Kyrgyz)"), max_length=100)
    name_ru = models.CharField(_("name (Russian)"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), unique=True)
    requirements_ky = models.TextField(_("how to reach it (Kyrgyz)"), blank=True)
    requirements_ru = models.TextField(_("how to reach it (Russian)"), blank=True)
    limit_operation = _limit(_("one operation at most"))
    limit_out_day = _limit(_("outgoing per day"))
    limit_out_month = _limit(_("outgoing per month"))
    limit_in_month = _limit(_("incoming per month"))
    limit_balance = _limit(_("balance at most"))

    class Meta:
        verbose_name = _("identification level")
        verbose_name_plural = _("identification levels")
        ordering = ["order"]

    def __str__(self):
        return self.name

    @property
    def name(self):
        return self.name_ky if get_language() == "ky" else self.name_ru

    @property
    def requirements(self):
        return self.requirements_ky if get_language() == "ky" else self.requirements_ru


class WalletQuerySet(models.QuerySet):
    def with_account(self):
        return self.select_related("account", "user")


class Wallet(models.Model):
    """A user's wallet; its number is the owner's mobile number."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallet"
    )
    number = models.CharField(_("wallet number"), max_length=16, unique=True)
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="wallet")
    # USSD PIN (hashed with Django's hashers) and its brute-force lock.
    pin_hash = models.CharField(max_length=128, blank=True)
    pin_failed_attempts = models.PositiveSmallIntegerField(default=0)
    pin_locked_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)
    # Changed only by wallets.limits.level_set (which also copies its limits to `account`).
    level = models.ForeignKey(
        Level,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wallets",
        verbose_name=_("identification level"),
    )

    objects = WalletQuerySet.as_manager()

    class Meta:
        verbose_name = _("wallet")
        verbose_name_plural = _("wallets")
        permissions = [("set_level", "Can raise or lower a wallet's identification level")]

    def __str__(self):
        return format_number(self.number)

    @property
    def balance(self):
        return self.account.balance


class LevelChange(models.Model):
    """A wallet's level was raised or lowered: by whom, when, on what evidence. Append-only."""

    wallet = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, related_name="level_changes", verbose_name=_("wallet")
    )
    old_level = models.ForeignKey(
        Level, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    new_level = models.ForeignKey(
        Level, on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    evidence = models.TextField(_("evidence"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("level change")
        verbose_name_plural = _("level changes")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.wallet}: {self.old_level} → {self.new_level}"


class CashIn(models.Model):
    """An audited top-up of a wallet by staff or an agent (cash at a desk or terminal)."""

    wallet = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, related_name="cashins", verbose_name=_("wallet")
    )
    amount = models.BigIntegerField(_("amount, tyiyn"))
    reason = models.CharField(_("reason"), max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="cashin")

    class Meta:
        verbose_name = _("cash-in")
        verbose_name_plural = _("cash-ins")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="cashin_amount_positive"),
        ]

    def __str__(self):
        return f"{self.wallet}: {self.amount}"


class SmsMessage(models.Model):
    """The SMS outbox: every message sent, whatever the backend."""

    phone = models.CharField(_("number"), max_length=16, db_index=True)
    text = models.TextField(_("text"))
    # A message with a code or PIN: its text with them masked, waiting to replace `text`
    # once the outbox copy is no longer needed (wallets.sms.outbox_redact); then empty.
    masked = models.TextField(blank=True, default="", editable=False)
    backend = models.CharField(_("backend"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=20, default="sent")
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("SMS")
        verbose_name_plural = _("SMS outbox")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=~models.Q(masked=""),
                name="sms_secret_readable",
            )
        ]

    def __str__(self):
        return f"{self.phone}: {self.text[:40]}"


class AuditLog(models.Model):
    """A money action by staff: who, what, when and from where. Append-only.

    Written by wallets.audit.audit_record, in the same transaction as the action; the
    admin shows it and cannot change it.
    """

    class Action(models.TextChoices):
        CASHIN = "cashin", _("cash-in")
        PAYMENT_REFUND = "payment_refund", _("payment refunded")
        PAYMENT_RETRY = "payment_retry", _("payment retried")
        LEVEL_CHANGE = "level_change", _("identification level changed")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("staff member"),
    )
    action = models.CharField(_("action"), max_length=32, choices=Action.choices, db_index=True)
    channel = models.CharField(_("channel"), max_length=16)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    amount = models.BigIntegerField(_("amount, tyiyn"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_repr}"


class HealthSignal(models.Model):
    """The last result of a periodic check (one row per check, e.g. "ledger"), so that any
    web process can answer /healthz/<name> from what the housekeeping loop last found."""

    name = models.CharField(_("check name"), max_length=32, unique=True)
    ok = models.BooleanField(_("passed"))
    detail = models.TextField(_("findings"), blank=True)
    checked_at = models.DateTimeField(_("checked at"))

    class Meta:
        verbose_name = _("health signal")
        verbose_name_plural = _("health signals")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}: {'ok' if self.ok else 'problem'}"


class TrustedDevice(models.Model):
    """A browser where the owner turned on sign-in by PIN (wallets.devices).

    The browser keeps a non-extractable ECDSA P-256 private key (WebCrypto, IndexedDB); we
    keep its public key. Signing in there is a one-time challenge signed by that key plus
    the wallet's PIN. Deleted ("forgotten") after DEVICE_MAX_FAILURES wrong PINs, by the
    owner, by a new password and by «sign out on all other devices».
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trusted_devices"
    )
    # The id the browser names the device by (random; never the primary key).
    public_id = models.CharField(max_length=32, unique=True, editable=False)
    public_key = models.TextField(_("public key (SPKI, base64)"), editable=False)
    name = models.CharField(_("device"), max_length=100)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)
    failures = models.PositiveSmallIntegerField(_("wrong PINs in a row"), default=0)

    class Meta:
        verbose_name = _("trusted device")
        verbose_name_plural = _("trusted devices")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.user}: {self.name}"


class DeviceChallenge(models.Model):
    """A one-time challenge for a trusted device to sign: expires, and is used once."""

    device = models.ForeignKey(TrustedDevice, on_delete=models.CASCADE, related_name="challenges")
    nonce = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.device_id}: {self.nonce[:8]}…"
