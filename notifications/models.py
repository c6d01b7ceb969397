from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationQuerySet(models.QuerySet):
    def for_user(self, user):
        return self.filter(user=user)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """«Tell this person»: one row per event for its owner, worded in the owner's language
    when it was created (notifications.services.notify)."""

    class Kind(models.TextChoices):
        PAYMENT_SUCCEEDED = "payment_succeeded", _("payment succeeded")
        PAYMENT_FAILED = "payment_failed", _("payment failed")
        PAYMENT_REFUNDED = "payment_refunded", _("payment refunded")
        TRANSFER_SENT = "transfer_sent", _("transfer sent")
        TRANSFER_RECEIVED = "transfer_received", _("transfer received")
        QR_RECEIVED = "qr_received", _("QR payment received")
        NEW_DEVICE = "new_device", _("sign-in from a new device")
        SECRET_CHANGED = "secret_changed", _("PIN or password changed")
        OTHER = "other", _("other")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("owner"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    text = models.TextField(_("text"))
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_recent"),
            # The bell on every signed-in page counts these: a small partial index.
            models.Index(
                fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self):
        return f"{self.user_id} {self.kind}: {self.text[:40]}"

    @property
    def unread(self) -> bool:
        return self.read_at is None


class PushSubscription(models.Model):
    """One browser's Web Push subscription (the installed app on a phone, say): where the
    push service takes messages for it (`endpoint`) and the keys they are encrypted to.
    A browser has one endpoint for our site: it belongs to whoever subscribed last on it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        verbose_name=_("owner"),
    )
    endpoint = models.URLField(_("endpoint"), max_length=500, unique=True)
    p256dh = models.CharField(_("public key"), max_length=100)
    auth = models.CharField(_("auth secret"), max_length=50)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("push subscription")
        verbose_name_plural = _("push subscriptions")

    def __str__(self):
        return f"{self.user_id} {self.endpoint[:60]}"
