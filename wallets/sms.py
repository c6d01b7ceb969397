"""SMS sending, pluggable like Django's email backends (settings.SMS_BACKEND).

- ConsoleAndOutboxBackend: prints and stores in the outbox (development, the default);
  it never prints a text with DJANGO_DEBUG=false (and `check --deploy` refuses it there);
- OutboxBackend: stores in the outbox only (tests; the outbox is visible in the admin);
- HttpGatewayBackend: POSTs to an SMS gateway (production: SMS_GATEWAY_URL, _USER, _PASSWORD),
  and records the message with its delivery status in the outbox.

Everything sends through `send_sms()`. A text carrying a secret (a sign-in code, a PIN, a
payment code) names it in `secrets`: the outbox keeps it readable only as long as it is
needed — masked at once after a gateway took it, after SMS_OUTBOX_SECRET_TTL where the
outbox is how it is read. Codes that a visitor asks for go through `sms_quota_consume()`
first: the per-number, per-address and hourly caps, counted in the shared cache.
"""

import datetime
import json
import logging
import sys
from collections.abc import Sequence

from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext

from config import http

from .middleware import RateLimited
from .models import SmsMessage

logger = logging.getLogger(__name__)

MASK = "***"


class BaseBackend:
    # The outbox row is where the message is read (no copy leaves the machine): a secret in
    # it stays readable for SMS_OUTBOX_SECRET_TTL, not masked at once.
    outbox_is_delivery = True
    writes_to_console = False
    needs_gateway_url = False

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
    writes_to_console = True

    def send(self, phone, text):
        self._transmit(phone, text)
        return self._record(phone, text)

    def _transmit(self, phone, text):
        # Production logs are kept and shipped: never a code or a PIN in them.
        text_shown = text if settings.DEBUG else "(text not shown: DJANGO_DEBUG=false)"
        sys.stdout.write(f"[SMS to {phone}] {text_shown}\n")
        sys.stdout.flush()
        return "sent"


class HttpGatewayBackend(BaseBackend):
    """JSON POST {"to": ..., "text": ...} with basic auth; any 2xx is delivered, anything
    else (a redirect too: never followed) failed. Through config.http: total timeout,
    http(s) only, private addresses refused unless allowed."""

    outbox_is_delivery = False
    needs_gateway_url = True

    def send(self, phone, text):
        return self._record(phone, text, self._transmit(phone, text))

    def _transmit(self, phone, text):
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
        return status


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


def mask(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret in it replaced by MASK."""
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def send_sms(*, phone: str, text: str, secrets: Sequence[str] = ()) -> SmsMessage:
    """Send one SMS through the configured backend. Call it from transaction.on_commit.

    `secrets`: the code, PIN or payment code inside `text`; the outbox does not keep them
    readable past their need. Every SMS counts toward the hourly budget (an ERROR log line
    when it is passed); the caps themselves are checked where a visitor asks for a code
    (sms_quota_consume), since a payment's or a PIN's SMS is owed to the wallet's owner.
    """
    _budget_count()
    backend = get_backend()
    message = backend.send(phone, text)
    if secrets:
        masked = mask(text, secrets)
        if backend.outbox_is_delivery:
            SmsMessage.objects.filter(pk=message.pk).update(masked=masked)
            message.masked = masked
        else:
            SmsMessage.objects.filter(pk=message.pk).update(text=masked)
            message.text = masked
    outbox_redact()  # cheap: a partial index holds only the still-readable secrets
    return message


def outbox_redact(*, now: datetime.datetime | None = None) -> int:
    """Mask the secrets of outbox messages older than SMS_OUTBOX_SECRET_TTL; how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=settings.SMS_OUTBOX_SECRET_TTL)
    stale = SmsMessage.objects.filter(created_at__lt=cutoff).exclude(masked="")
    return stale.update(text=F("masked"), masked="")


# --- Caps: counted in the cache (shared by every process in production) ---


class SmsCapped(RateLimited):
    """A visitor's code would pass an SMS cap: the 429 page says which, in their language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _count(key: str, timeout: int) -> int:
    """Add one to a fixed-window counter in the cache and return it (atomic on Redis)."""
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        return 1


def _hour_key(now: datetime.datetime) -> str:
    return f"sms:budget:{now:%Y%m%d%H}"


def _budget_count() -> None:
    now = timezone.localtime()
    used = _count(_hour_key(now), 3700)
    if used == settings.SMS_BUDGET_PER_HOUR + 1:
        # Once per hour, at the crossing (incr is atomic): the alert for whoever watches logs.
        logger.error(
            "ALERT: SMS hourly budget exceeded: %d SMS this hour (SMS_BUDGET_PER_HOUR=%d); "
            "codes asked for by visitors are refused until the hour ends",
            used,
            settings.SMS_BUDGET_PER_HOUR,
        )


def sms_quota_consume(*, phone: str, ip: str | None) -> None:
    """Count one SMS a visitor asks for (a sign-up or sign-in code) or raise SmsCapped.

    Caps (settings, counted in fixed windows of the cache): SMS_CAP_PER_IP_HOUR codes from
    one client address an hour across numbers, SMS_CAP_PER_NUMBER_DAY codes to one number
    a local day, and none once the hour's SMS_BUDGET_PER_HOUR is spent. Call it before the
    code is queued, so the visitor is told at once.
    """
    now = timezone.localtime()
    if ip and _count(f"sms:ip:{ip}:{now:%Y%m%d%H}", 3700) > settings.SMS_CAP_PER_IP_HOUR:
        logger.warning("SMS cap per client address reached (SMS_CAP_PER_IP_HOUR)")
        raise SmsCapped(
            gettext(
                "Too many SMS codes were asked for from your network. Please try again in an hour."
            )
        )
    if _count(f"sms:number:{phone}:{now:%Y%m%d}", 25 * 3600) > settings.SMS_CAP_PER_NUMBER_DAY:
        logger.warning("SMS cap per number reached (SMS_CAP_PER_NUMBER_DAY)")
        raise SmsCapped(
            gettext("Too many SMS were sent to this number today. Please try again tomorrow.")
        )
    if (cache.get(_hour_key(now)) or 0) >= settings.SMS_BUDGET_PER_HOUR:
        raise SmsCapped(gettext("SMS codes cannot be sent right now. Please try again later."))


def sms_queue(
    *, phone: str, text: str, secrets: Sequence[str] = (), task: bool = True
) -> SmsMessage:
    """Queue one SMS inside the caller's transaction: the outbox row (status «queued») and
    the task that sends it (wallets.tasks.sms_deliver) commit with the operation, so an SMS
    is never sent for money that did not move, and never lost for money that did; the
    request that moved the money does not wait for the SMS gateway. `secrets` as for
    send_sms: kept readable only as long as needed. `task=False`: the caller's own task
    sends it (sms_deliver_queued; notifications.services.notify, one task per event)."""
    from .operations import enqueue
    from .tasks import sms_deliver

    masked = mask(text, secrets) if secrets else ""
    message = SmsMessage.objects.create(phone=phone, text=text, status="queued", masked=masked)
    if task:
        enqueue(sms_deliver, message.pk)
    return message


def sms_deliver_queued(message_id: int) -> str:
    """Send the outbox row `message_id` if it is still queued («gone» otherwise), once."""
    message = SmsMessage.objects.filter(pk=message_id, status="queued").first()
    if message is None:
        return "gone"
    sms_deliver_now(message)
    return "sent"


def sms_deliver_now(message: SmsMessage) -> None:
    """Send a queued outbox row through the configured backend, and mask its secrets the
    way send_sms does once a gateway (not the outbox) took it."""
    _budget_count()  # counted when it goes out, not in the request that queued it
    backend = get_backend()
    backend.deliver(message)
    if message.masked and not backend.outbox_is_delivery:
        SmsMessage.objects.filter(pk=message.pk).update(text=message.masked, masked="")
