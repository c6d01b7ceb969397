"""SMS sending, pluggable like Django's email backends (settings.SMS_BACKEND).

- ConsoleAndOutboxBackend: prints and stores in the outbox (development, the default);
- OutboxBackend: stores in the outbox only (tests; the outbox is visible in the admin);
- HttpGatewayBackend: POSTs to an SMS gateway (production: SMS_GATEWAY_URL, _USER, _PASSWORD),
  and records the message with its delivery status in the outbox.

Everything sends through `send_sms()`.
"""

import base64
import json
import logging
import sys
import urllib.error
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

from .models import SmsMessage

logger = logging.getLogger(__name__)


class BaseBackend:
    def send(self, phone: str, text: str) -> SmsMessage:
        raise NotImplementedError

    def deliver(self, message: SmsMessage) -> None:
        """Send a queued outbox row (sms_queue) and record how it went."""
        status = self._transmit(message.phone, message.text)
        SmsMessage.objects.filter(pk=message.pk).update(status=status, backend=type(self).__name__)

    def _transmit(self, phone: str, text: str) -> str:
        return "sent"

    def _record(self, phone, text, status="sent"):
        return SmsMessage.objects.create(
            phone=phone, text=text, status=status, backend=type(self).__name__
        )


class OutboxBackend(BaseBackend):
    def send(self, phone, text):
        return self._record(phone, text)


class ConsoleAndOutboxBackend(BaseBackend):
    def send(self, phone, text):
        self._transmit(phone, text)
        return self._record(phone, text)

    def _transmit(self, phone, text):
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()
        return "sent"


class HttpGatewayBackend(BaseBackend):
    """JSON POST {"to": ..., "text": ...} with basic auth; any 2xx is delivered."""

    def send(self, phone, text):
        return self._record(phone, text, self._transmit(phone, text))

    def _transmit(self, phone, text):
        if not settings.SMS_GATEWAY_URL.startswith(("https://", "http://")):
            raise ValueError("SMS_GATEWAY_URL must be an http(s) URL")
        body = json.dumps({"to": phone, "text": text}).encode()
        request = urllib.request.Request(  # noqa: S310
            settings.SMS_GATEWAY_URL,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        if settings.SMS_GATEWAY_USER:
            token = base64.b64encode(
                f"{settings.SMS_GATEWAY_USER}:{settings.SMS_GATEWAY_PASSWORD}".encode()
            ).decode()
            request.add_header("Authorization", f"Basic {token}")
        status = "sent"
        try:
            # The scheme is checked above: http(s) only.
            with urllib.request.urlopen(request, timeout=settings.SMS_GATEWAY_TIMEOUT) as response:  # noqa: S310
                if not 200 <= response.status < 300:
                    status = "failed"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            logger.warning("SMS gateway error: %s", type(exc).__name__)
            status = "failed"
        return status


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, phone: str, text: str) -> SmsMessage:
    """Send one SMS through the configured backend, now. Call it from transaction.on_commit."""
    return get_backend().send(phone, text)


def sms_queue(*, phone: str, text: str) -> SmsMessage:
    """Queue one SMS inside the caller's transaction: the outbox row (status «queued») and
    the task that sends it commit with the operation, so an SMS is never sent for money that
    did not move, and never lost for money that did. The request that moved the money does
    not wait for the SMS gateway."""
    from .operations import enqueue
    from .tasks import sms_deliver

    message = SmsMessage.objects.create(phone=phone, text=text, status="queued")
    enqueue(sms_deliver, message.pk)
    return message
