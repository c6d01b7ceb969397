"""Notifications: one place for «tell this person».

`notify()` writes the in-app row inside the caller's transaction — the one that moves the
money — so a notification exists only for money that moved, and never before it. An SMS
copy goes through wallets.sms.sms_queue (queued in the same transaction, sent by a task
after the commit); Web Push is not built yet.
"""

from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone, translation

from wallets.sms import sms_queue

from .models import Notification


def _language(user) -> str:
    return getattr(user, "language", "") or "ru"


def notify(
    *,
    user,
    kind: str,
    text: str | Callable[[], str],
    url: str = "",
    sms: bool = False,
    secrets: Sequence[str] = (),
) -> Notification:
    """Tell `user` about an event of `kind`: an in-app notification, and with `sms` the same
    text by SMS to the user's number.

    Guarantees: the text is worded in the user's language (pass a lazy string or a
    callable that builds it: it is evaluated under that language); the row and the queued
    SMS commit with the caller's transaction, or not at all. `secrets` (a code inside the
    text) are masked in the SMS outbox as wallets.sms does.
    """
    with translation.override(_language(user)):
        worded = str(text() if callable(text) else text)
    with transaction.atomic():
        notification = Notification.objects.create(
            user=user, kind=kind, text=worded, url=url[:300], created_at=timezone.now()
        )
        if sms:
            sms_queue(phone=user.phone, text=worded, secrets=secrets)
    return notification


def notifications_mark_read(*, user, ids=None) -> int:
    """Mark `user`'s unread notifications (or those of `ids`) read; how many."""
    queryset = Notification.objects.for_user(user).unread()
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset.update(read_at=timezone.now())


def unread_count(*, user) -> int:
    return Notification.objects.for_user(user).unread().count()
