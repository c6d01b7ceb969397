"""Background tasks of wallets (Django's tasks framework)."""

from django.tasks import task


@task
def sms_deliver(message_id: int) -> str:
    """Send a queued SMS (wallets.sms.sms_queue) through the configured backend, once."""
    from .models import SmsMessage
    from .sms import sms_deliver_now

    message = SmsMessage.objects.filter(pk=message_id, status="queued").first()
    if message is None:
        return "gone"
    sms_deliver_now(message)
    return "sent"
