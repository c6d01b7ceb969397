"""Notifications: one place for «tell this person».

`notify()` writes the in-app row inside the caller's transaction — the one that moves the
money — so a notification exists only for money that moved, and never before it. Its other
channels (notifications.channels: an SMS copy, Web Push to the owner's browsers) are queued
in the same transaction as one task (notifications.tasks.notification_deliver) that
delivers them after the commit.
"""

from collections.abc import Callable, Sequence

from django.db import transaction
from django.utils import timezone, translation

from wallets.operations import enqueue

from . import channels
from .models import Notification, PushSubscription
from .push import endpoint_valid, keys_valid


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
    """Tell `user` about an event of `kind`: an in-app notification, with `sms` the same
    text by SMS to the user's number, and a Web Push to each browser they subscribed.

    Guarantees: the text is worded in the user's language (pass a lazy string or a
    callable that builds it: it is evaluated under that language); the row, the queued SMS
    and the delivery task commit with the caller's transaction, or not at all. `secrets` (a code inside the
    text) are masked in the SMS outbox as wallets.sms does.
    """
    with translation.override(_language(user)):
        worded = str(text() if callable(text) else text)
    # No savepoint inside the caller's transaction: the payment's statements are counted.
    with transaction.atomic(savepoint=False):
        notification = Notification.objects.create(
            user=user, kind=kind, text=worded, url=url[:300], created_at=timezone.now()
        )
        tickets = channels.queue(notification, sms=sms, secrets=secrets)
        if tickets:
            from .tasks import notification_deliver

            enqueue(notification_deliver, notification.pk, tickets)
    return notification


def notifications_mark_read(*, user, ids=None) -> int:
    """Mark `user`'s unread notifications (or those of `ids`) read; how many."""
    queryset = Notification.objects.for_user(user).unread()
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset.update(read_at=timezone.now())


def unread_count(*, user) -> int:
    return Notification.objects.for_user(user).unread().count()


# Subscriptions one owner may hold (browsers, phones): the oldest go past it.
MAX_SUBSCRIPTIONS = 10


def push_subscribe_save(*, user, endpoint: str, p256dh: str, auth: str) -> PushSubscription | None:
    """Store this browser's Web Push subscription for `user` (None: not a valid one).

    A browser has one endpoint for the site: when another owner subscribed it before, it
    is `user`'s now (whoever signed in on it last hears of their own wallet only)."""
    if not endpoint_valid(endpoint) or not keys_valid(p256dh=p256dh, auth=auth):
        return None
    with transaction.atomic():
        subscription, _created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={"user": user, "p256dh": p256dh, "auth": auth, "created_at": timezone.now()},
        )
        stale = PushSubscription.objects.filter(user=user).order_by("-created_at", "-id")
        stale_ids = list(stale.values_list("pk", flat=True)[MAX_SUBSCRIPTIONS:])
        if stale_ids:
            PushSubscription.objects.filter(pk__in=stale_ids).delete()
    return subscription


def push_unsubscribe_delete(*, user, endpoint: str) -> int:
    """Forget `user`'s subscription of `endpoint` (someone else's is left alone)."""
    return PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()[0]
