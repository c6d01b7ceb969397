"""Server-side state of *900# sessions (one row per gateway sessionId)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class UssdSession(models.Model):
    """One USSD dialogue, kept in the database so that any web process can answer it.

    `consumed` counts the inputs of the gateway's `text` already applied, so a repeated
    or late request replays `last_screen` instead of applying an input twice. `lock_until`
    is a short lease: one request at a time works on a session.
    """

    session_id = models.CharField(_("session id"), max_length=100, unique=True)
    phone = models.CharField(_("mobile number"), max_length=16, db_index=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    state = models.JSONField(_("session state"), default=dict, blank=True)
    consumed = models.PositiveIntegerField(_("inputs consumed"), default=0)
    last_screen = models.TextField(_("last USSD screen"), blank=True)
    closed = models.BooleanField(_("session closed"), default=False)
    lock_token = models.CharField(max_length=32, blank=True)
    lock_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("session started"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last USSD request"), auto_now=True)
    expires_at = models.DateTimeField(_("session expires"), db_index=True)

    class Meta:
        verbose_name = _("USSD session")
        verbose_name_plural = _("USSD sessions")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.phone} {self.session_id}"
