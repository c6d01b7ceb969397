"""Staff in tests: TOTP codes computed here (RFC 6238), and a signed-in admin session."""

import base64
import hashlib
import hmac
import struct
import time

from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
)


def totp_code(secret: str, at: float | None = None, step: int = 30, digits: int = 6) -> str:
    """The code an authenticator app shows for the base32 `secret` at time `at` (now)."""
    counter = int((time.time() if at is None else at) // step)
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def current_totp(secret: str) -> str:
    """The code for now, never one about to expire (a test must not straddle two codes)."""
    if time.time() % 30 > 28.5:
        time.sleep(1.6)
    return totp_code(secret)


def wrong_totp(secret: str) -> str:
    """A code that is not the current one (nor the ones around it)."""
    near = {totp_code(secret, time.time() + delta) for delta in (-30, 0, 30)}
    return next(f"{n:06d}" for n in range(123456, 999999, 111111) if f"{n:06d}" not in near)


def staff_login(client, user) -> None:
    """Sign `user` in as the admin's sign-in does: a password, then an authenticator code.

    For tests about what staff may do, not about signing in (tests/security does that
    through the real pages).
    """
    client.force_login(user)
    session = client.session
    now = time.time()
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": now},
        {"method": "mfa", "at": now, "type": "totp"},
    ]
    session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()


ENROL_SMS = "/accounts/2fa/totp/activate/sms/"


def sms_enrolment_code(client, user) -> str:
    """Ask, as the signed-in `user`, for the SMS code that opens the authenticator set-up;
    returns the code the SMS carried (the outbox backend keeps it)."""
    import re

    from django.test import TestCase

    from wallets.models import SmsMessage

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(ENROL_SMS, {"action": "send"})
    assert response.status_code == 302, response.status_code
    sms = SmsMessage.objects.filter(phone=user.phone).order_by("-id").first()
    return re.search(r"\b(\d{6})\b", sms.text)[1]


def pass_sms_enrolment(client, user) -> None:
    """The SMS step before an authenticator app is set up, done right."""
    code = sms_enrolment_code(client, user)
    response = client.post(ENROL_SMS, {"action": "verify", "code": code})
    assert response["Location"] == "/accounts/2fa/totp/activate/"
