"""Background tasks of notifications: the delivery of one notification over its channels."""

from django.tasks import task


@task
def notification_deliver(notification_id: int, tickets: dict) -> dict:
    """Deliver a committed notification over the channels notify() queued it for
    (notifications.channels); what each channel did."""
    from .channels import deliver

    return deliver(notification_id, tickets)
