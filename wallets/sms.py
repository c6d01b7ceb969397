"""SMS sending, pluggable like Django's email backends (settings.SMS_BACKEND).

- ConsoleAndOutboxBackend: prints and stores in the outbox (development, the default);
- OutboxBackend: stores in the outbox only (tests; the outbox is visible in the admin);
- HttpGatewayBackend: POSTs to an SMS gateway (production: SMS_GATEWAY_URL, _USER, _PASSWORD),
  and records the message with its delivery status in the outbox.

Everything sends through `send_sms()`.
"""

import json
import logging
import sys

from django.conf import settings
from django.utils.module_loading import import_string

from config import http

from .models import SmsMessage

logger = logging.getLogger(__name__)


class BaseBackend:
    def send(self, phone: str, text: str) -> SmsMessage:
        raise NotImplementedError

    def _record(self, phone, text, status="sent"):
        return SmsMessage.objects.create(
            phone=phone, text=text, status=status, backend=type(self).__name__
        )


class OutboxBackend(BaseBackend):
    def send(self, phone, text):
        return self._record(phone, text)


class ConsoleAndOutboxBackend(BaseBackend):
    def send(self, phone, text):
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()
        return self._record(phone, text)


class HttpGatewayBackend(BaseBackend):
    """JSON POST {"to": ..., "text": ...} with basic auth; any 2xx is delivered, anything
    else (a redirect too: never followed) failed. Through config.http: total timeout,
    http(s) only, private addresses refused unless allowed."""

    def send(self, phone, text):
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if settings.SMS_GATEWAY_USER:
            headers["Authorization"] = http.basic_auth(
                settings.SMS_GATEWAY_USER, settings.SMS_GATEWAY_PASSWORD
            )
        body = json.dumps({"to": phone, "text": text}).encode()
        status = "sent"
        try:
            response = http.request(
                "POST",
                settings.SMS_GATEWAY_URL,
                headers=headers,
                body=body,
                timeout=settings.SMS_GATEWAY_TIMEOUT,
                max_bytes=16 * 1024,
            )
        except http.Refused as exc:
            logger.error("SMS_GATEWAY_URL is refused: %s", exc)
            status = "failed"
        except http.OutboundError as exc:
            logger.warning("SMS gateway error: %s", exc)
            status = "failed"
        else:
            if not response.ok:
                logger.warning("SMS gateway answered HTTP %s", response.status)
                status = "failed"
        return self._record(phone, text, status)


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, phone: str, text: str) -> SmsMessage:
    """Send one SMS through the configured backend. Call it from transaction.on_commit."""
    return get_backend().send(phone, text)
