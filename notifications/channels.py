"""The delivery channels of a notification, behind one interface.

A channel's `queue()` runs inside notify()'s transaction — the one that moves the money —
and returns a ticket: what its delivery needs later (None: nothing to deliver). The tickets
go to one task (notifications.tasks.notification_deliver) that commits with the event; the
task calls each channel's `deliver()` after the commit, so neither a slow SMS gateway nor
a slow push service holds up the request.

- in-app: the Notification row is the delivery (always);
- SMS: an outbox row queued with the event (wallets.sms), sent by the task;
- Web Push: to every browser the owner subscribed (notifications.push), when VAPID is set.
"""

from collections.abc import Sequence

from wallets.sms import sms_deliver_queued, sms_queue

from .models import Notification
from .push import push_configured, push_notification


class Channel:
    name = ""

    def queue(self, notification: Notification, *, sms: bool, secrets: Sequence[str]):
        """Inside the event's transaction: a JSON-able ticket for deliver(), or None."""
        return None

    def deliver(self, notification: Notification, ticket):
        """In the task, after the commit: what happened (for the task's result)."""
        return None


class InApp(Channel):
    name = "inapp"


class Sms(Channel):
    name = "sms"

    def queue(self, notification, *, sms, secrets):
        if not sms or not notification.user.phone:
            return None
        message = sms_queue(
            phone=notification.user.phone, text=notification.text, secrets=secrets, task=False
        )
        return message.pk

    def deliver(self, notification, ticket):
        return sms_deliver_queued(ticket)


class WebPush(Channel):
    name = "push"

    def queue(self, notification, *, sms, secrets):
        # No look-up here (it would be a statement in the payment's transaction): the task
        # finds the owner's subscriptions, if any.
        return True if push_configured() else None

    def deliver(self, notification, ticket):
        return push_notification(notification)


CHANNELS: dict[str, Channel] = {channel.name: channel for channel in (InApp(), Sms(), WebPush())}


def queue(notification: Notification, *, sms: bool, secrets: Sequence[str]) -> dict:
    """Every channel's ticket for `notification` (only those with something to deliver)."""
    tickets = {}
    for name, channel in CHANNELS.items():
        ticket = channel.queue(notification, sms=sms, secrets=secrets)
        if ticket is not None:
            tickets[name] = ticket
    return tickets


def deliver(notification_id: int, tickets: dict) -> dict:
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None:
        return {}
    # The SMS first: it is the channel the owner may be relying on.
    return {
        name: CHANNELS[name].deliver(notification, ticket)
        for name, ticket in sorted(tickets.items(), key=lambda item: item[0] != "sms")
    }
