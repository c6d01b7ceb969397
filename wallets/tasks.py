"""Background tasks of wallets (Django's tasks framework)."""

from django.tasks import task


@task
def sms_deliver(message_id: int) -> str:
    """Send a queued SMS (wallets.sms.sms_queue) through the configured backend, once."""
    from .sms import sms_deliver_queued

    return sms_deliver_queued(message_id)
