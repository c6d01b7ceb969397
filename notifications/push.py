"""Web Push (RFC 8030/8291/8292): a notification to each browser its owner subscribed.

The payload is encrypted to the subscription's keys by pywebpush (`WebPusher.encode`,
aes128gcm) and signed for the push service with our VAPID key (py_vapid); the POST itself
goes through config.http like every outbound call (no redirects, one deadline, private
addresses refused unless OUTBOUND_ALLOW_PRIVATE). Runs in notifications.tasks, never in a
request. A push service answering 404 or 410 has dropped the subscription: so do we.
"""

import base64
import binascii
import functools
import json
import logging
import urllib.parse

from django.conf import settings
from django.utils import timezone

from config import http

from .models import Notification, PushSubscription

logger = logging.getLogger(__name__)

GONE = (404, 410)
# A sign-in or a new password is worth waking the phone for; money news can wait a little.
URGENT = {Notification.Kind.NEW_DEVICE, Notification.Kind.SECRET_CHANGED}


def push_configured() -> bool:
    """Web Push is on when both VAPID keys are set."""
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


# pywebpush and py_vapid (with requests and aiohttp under them) are imported where a push is
# sent, in the worker: the web processes never load them.


@functools.cache
def _vapid(private_key: str):
    from py_vapid import Vapid

    return Vapid.from_string(private_key=private_key)


def _b64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def keys_valid(*, p256dh: str, auth: str) -> bool:
    """A browser's keys as PushSubscription.toJSON() gives them: base64url of a P-256
    uncompressed point (65 bytes, 0x04 first) and of a 16-byte secret."""
    try:
        point, secret = _b64(p256dh), _b64(auth)
    except (binascii.Error, ValueError):
        return False
    return len(point) == 65 and point[0] == 4 and len(secret) == 16


def endpoint_valid(endpoint: str) -> bool:
    """https (http too where private addresses are allowed: development and tests)."""
    parts = urllib.parse.urlsplit(endpoint or "")
    schemes = ("https", "http") if settings.OUTBOUND_ALLOW_PRIVATE else ("https",)
    return parts.scheme in schemes and bool(parts.hostname) and len(endpoint) <= 500


def payload(notification: Notification) -> bytes:
    """What the service worker shows (static/js: the push event in pwa/sw.js)."""
    return json.dumps(
        {
            "title": "Kapchyk",
            "body": notification.text,
            "url": notification.url or "/notifications/",
            "tag": f"n{notification.pk}",
        },
        ensure_ascii=False,
    ).encode()


def push_send(subscription: PushSubscription, data: bytes, *, urgent: bool = False) -> str:
    """One encrypted POST to the subscription's push service: «sent», «gone» (the
    subscription is deleted) or «failed» (logged; the next notification tries again)."""
    info = {
        "endpoint": subscription.endpoint,
        "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
    }
    from pywebpush import WebPusher, WebPushException

    parts = urllib.parse.urlsplit(subscription.endpoint)
    try:
        body = WebPusher(info).encode(data, content_encoding="aes128gcm")["body"]
    except (WebPushException, ValueError) as exc:  # keys no browser would send: drop it
        logger.warning("push subscription %s has unusable keys: %s", subscription.pk, exc)
        PushSubscription.objects.filter(pk=subscription.pk).delete()
        return "gone"
    claims = {"aud": f"{parts.scheme}://{parts.netloc}", "sub": settings.VAPID_SUBJECT}
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Encoding": "aes128gcm",
        "TTL": str(settings.PUSH_TTL),
        "Urgency": "high" if urgent else "normal",
        **_vapid(settings.VAPID_PRIVATE_KEY).sign(claims),
    }
    try:
        response = http.request(
            "POST",
            subscription.endpoint,
            headers=headers,
            body=body,
            timeout=settings.PUSH_TIMEOUT,
            max_bytes=16 * 1024,
        )
    except http.OutboundError as exc:
        logger.warning("push to %s failed: %s", parts.hostname, exc)
        return "failed"
    if response.status in GONE:
        PushSubscription.objects.filter(pk=subscription.pk).delete()
        return "gone"
    if not response.ok:
        logger.warning("push service %s answered HTTP %s", parts.hostname, response.status)
        return "failed"
    PushSubscription.objects.filter(pk=subscription.pk).update(last_success_at=timezone.now())
    return "sent"


def push_notification(notification: Notification) -> dict[str, int]:
    """Send `notification` to every subscription of its owner; how many went which way."""
    outcomes: dict[str, int] = {}
    if not push_configured():
        return outcomes
    data = payload(notification)
    urgent = notification.kind in URGENT
    for subscription in PushSubscription.objects.filter(user_id=notification.user_id):
        outcome = push_send(subscription, data, urgent=urgent)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def vapid_keys_new() -> tuple[str, str]:
    """A new VAPID key pair: (public, private), base64url without padding, as the settings
    and the browser's applicationServerKey take them."""
    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid

    vapid = Vapid()
    vapid.generate_keys()
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")

    def encode(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return encode(public), encode(private)
