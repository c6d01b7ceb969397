"""Security notices: a sign-in from a device not seen before, a PIN or password changed.

A browser that signed in is remembered by a long-lived signed cookie (`kapchyk_device`)
holding a keyed digest of each wallet owner who signed in on it (no id in clear, at most
MAX_KNOWN of them). A sign-in through the web (allauth's `user_logged_in`, which carries the
response) from a browser whose cookie does not name the owner is a sign-in from a new
device: the owner is notified (in-app and Web Push: the other devices hear of it), and the
browser is remembered from then on.
"""

from allauth.account.signals import user_logged_in
from django.conf import settings
from django.dispatch import receiver
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from .models import Notification
from .services import notify

DEVICE_COOKIE = "kapchyk_device"
_SALT = "notifications.device"
MAX_AGE = 400 * 24 * 3600  # the longest a browser keeps a cookie
MAX_KNOWN = 5


def _digest(user) -> str:
    return salted_hmac(_SALT, str(user.pk), algorithm="sha256").hexdigest()[:16]


def known_digests(request) -> list[str]:
    value = request.get_signed_cookie(DEVICE_COOKIE, default="", salt=_SALT, max_age=MAX_AGE)
    return [part for part in value.split(".") if part][:MAX_KNOWN]


def new_device_text() -> str:
    return _(
        "Kapchyk: your wallet was signed in to from a new device. If it was not you, "
        "change the password and call support."
    )


SIGNED_UP_HERE = "kapchyk_signed_up_here"


def registering_here(request, user) -> None:
    """The browser that registers a wallet on the web is its first device, not a new one:
    the registration's sign-in (after the SMS code) is remembered without a notice."""
    request.session[SIGNED_UP_HERE] = _digest(user)


@receiver(user_logged_in, dispatch_uid="notifications.devices.sign_in")
def sign_in_seen(sender, request, response, user, **kwargs) -> None:
    """Notify the owner of a sign-in from a browser not seen before, and remember it."""
    known = known_digests(request)
    mine = _digest(user)
    if mine in known:
        return
    if request.session.pop(SIGNED_UP_HERE, None) != mine:
        notify(
            user=user,
            kind=Notification.Kind.NEW_DEVICE,
            text=new_device_text,
            url="/notifications/",
        )
    if response is not None:
        value = ".".join([mine, *known][:MAX_KNOWN])
        response.set_signed_cookie(
            DEVICE_COOKIE,
            value,
            salt=_SALT,
            max_age=MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


def secret_changed(user, text) -> None:
    """The owner's PIN or password changed: in-app, Web Push and SMS to the wallet's number
    (`text` a string or a callable worded in the owner's language). Call it inside the
    transaction that changes it."""
    notify(user=user, kind=Notification.Kind.SECRET_CHANGED, text=text, sms=bool(user.phone))
