"""Quick sign-in on a trusted device: the wallet's PIN plus a key that never leaves the browser.

Turning it on (after a full sign-in with the password): the browser makes a non-extractable
ECDSA P-256 key pair (WebCrypto), keeps the private key in IndexedDB and sends us the public
key (SPKI); `device_enrol` stores it as a TrustedDevice (and sets the wallet's PIN when it has
none). Signing in there: `challenge_issue` gives a one-time nonce (DeviceChallenge: expires
after CHALLENGE_TTL, used once), the browser signs it with the device key, and `pin_sign_in`
checks, in this order: the device is still trusted, the challenge is this device's, unused and
not expired (it is used up by this very call, whatever follows), the signature (ECDSA with
SHA-256; WebCrypto signs as raw r||s, turned into DER here), and only then the PIN — with the
wallet's PIN rules of *900# (ussd.services.pin_check: 3 wrong in a row lock it for 30 minutes,
counted in the database). Each wrong PIN also counts against the device: the
DEVICE_MAX_FAILURES-th wrong PIN in a row forgets it (the password is needed again).

A forged signature or a replayed challenge checks no PIN and counts nothing: whoever lacks the
key can neither guess the PIN nor make the owner's device forgotten.
"""

import base64
import binascii
import datetime
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import DeviceChallenge, TrustedDevice, User, Wallet

CHALLENGE_TTL = datetime.timedelta(minutes=2)
DEVICE_MAX_FAILURES = 5
DEVICES_PER_USER = 10

# The session of a sign-in by PIN (sensitive actions ask for the password again there).
PIN_SESSION_KEY = "kapchyk_pin_session"
# allauth's record of how this session was signed in (account.authentication records).
PIN_METHOD = "pin"


class Refused(Exception):
    """A quick sign-in or an enrolment refused; `code` says why (the views word it)."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class SignedIn:
    user: User
    device: TrustedDevice


def _b64decode(text: str) -> bytes:
    text = str(text or "").strip()
    if not text or len(text) > 2048 or not re.fullmatch(r"[A-Za-z0-9+/_\-]+=*", text):
        raise ValueError("not base64")
    text = text.replace("-", "+").replace("_", "/").rstrip("=")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("not base64") from exc


def public_key_load(spki_b64: str) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its SPKI (DER) in base64; ValueError for anything else."""
    try:
        key = load_der_public_key(_b64decode(spki_b64))
    except (ValueError, TypeError) as exc:
        raise ValueError("not a public key") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("not an ECDSA P-256 key")
    return key


def signature_valid(*, public_key: str, message: bytes, signature: str) -> bool:
    """ECDSA P-256 with SHA-256 over `message`; `signature` is WebCrypto's raw r||s (64 bytes)
    in base64 (url-safe or not)."""
    try:
        raw = _b64decode(signature)
    except ValueError:
        return False
    if len(raw) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public_key_load(public_key).verify(der, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def device_name(user_agent: str) -> str:
    """«Chrome, Android» from a User-Agent (or «Browser» when it says nothing we know)."""
    ua = str(user_agent or "")
    browser = next(
        (
            name
            for token, name in (
                ("Edg/", "Edge"),
                ("OPR/", "Opera"),
                ("YaBrowser/", "Yandex Browser"),
                ("SamsungBrowser/", "Samsung Internet"),
                ("Firefox/", "Firefox"),
                ("Chrome/", "Chrome"),
                ("Chromium/", "Chromium"),
                ("Safari/", "Safari"),
            )
            if token in ua
        ),
        "Browser",
    )
    system = next(
        (
            name
            for token, name in (
                ("Android", "Android"),
                ("iPhone", "iPhone"),
                ("iPad", "iPad"),
                ("Windows", "Windows"),
                ("Mac OS X", "macOS"),
                ("CrOS", "ChromeOS"),
                ("Linux", "Linux"),
            )
            if token in ua
        ),
        "",
    )
    return f"{browser}, {system}" if system else browser


def device_enrol(
    *, user: User, public_key: str, user_agent: str, new_pin: str | None = None
) -> TrustedDevice:
    """Trust the browser holding the private half of `public_key` for sign-in by PIN.

    `new_pin`: the PIN to set when the wallet has none (checked by the caller). Refused:
    `key_invalid`, `no_wallet`, `pin_needed` (no PIN yet and none given), `pin_exists` (a PIN
    was set meanwhile), `too_many_devices`.
    """
    try:
        public_key_load(public_key)
    except ValueError:
        raise Refused("key_invalid") from None
    with transaction.atomic():
        wallet = Wallet.objects.filter(user=user).only("pk", "pin_hash").first()
        if wallet is None:
            raise Refused("no_wallet")
        if not wallet.pin_hash:
            if not new_pin:
                raise Refused("pin_needed")
            from ussd.services import pin_set

            if not pin_set(wallet=wallet, pin=new_pin):
                raise Refused("pin_exists")
        if TrustedDevice.objects.filter(user=user).count() >= DEVICES_PER_USER:
            raise Refused("too_many_devices")
        return TrustedDevice.objects.create(
            user=user,
            public_id=secrets.token_urlsafe(16),
            public_key=public_key.strip(),
            name=device_name(user_agent)[:100],
        )


def _device(public_id: str) -> TrustedDevice:
    device = (
        TrustedDevice.objects.select_related("user")
        .filter(public_id=str(public_id or "")[:32])
        .first()
    )
    if device is None or not device.user.is_active:
        raise Refused("device_forgotten")
    return device


def challenge_issue(*, public_id: str) -> str:
    """A new one-time challenge for the device (refused `device_forgotten`)."""
    device = _device(public_id)
    now = timezone.now()
    # Old challenges of the device go: at most the live ones stay.
    DeviceChallenge.objects.filter(device=device, expires_at__lte=now).delete()
    nonce = secrets.token_urlsafe(32)
    DeviceChallenge.objects.create(device=device, nonce=nonce, expires_at=now + CHALLENGE_TTL)
    return nonce


def challenges_purge() -> int:
    """Delete the expired challenges (the housekeeping loop's session purge calls it)."""
    return DeviceChallenge.objects.filter(expires_at__lte=timezone.now()).delete()[0]


def challenge_use(*, device: TrustedDevice, nonce: str) -> bool:
    """Use up the device's challenge `nonce`: True once, if it is unused and not expired."""
    now = timezone.now()
    return bool(
        DeviceChallenge.objects.filter(
            device=device, nonce=str(nonce or "")[:64], used_at__isnull=True, expires_at__gt=now
        ).update(used_at=now)
    )


def pin_sign_in(*, public_id: str, nonce: str, signature: str, pin: str) -> SignedIn:
    """Check a quick sign-in (see the module docstring); the caller then logs the user in.

    Refused: `device_forgotten`, `challenge_invalid`, `signature_invalid`, `no_pin`,
    `pin_format`, `pin_locked` (until), `pin_wrong` (left: tries left on this device),
    `device_forgotten_now` (that wrong PIN was the device's last).
    """
    from ussd import services as pins

    device = _device(public_id)
    if not challenge_use(device=device, nonce=nonce):
        raise Refused("challenge_invalid")
    if not signature_valid(
        public_key=device.public_key, message=str(nonce).encode(), signature=signature
    ):
        raise Refused("signature_invalid")
    wallet = Wallet.objects.filter(user=device.user).select_related("user").first()
    if wallet is None or not wallet.pin_hash:
        raise Refused("no_pin")
    pin = str(pin or "").strip()
    if not pins.pin_format_ok(pin):
        raise Refused("pin_format")
    until = pins.pin_locked_until(wallet=wallet)
    if until is not None:
        # Locked before this try (the *900# rule): nothing is checked, nothing counts.
        raise Refused("pin_locked", until=until)
    check = pins.pin_check(wallet=wallet, pin=pin)
    if check.ok:
        TrustedDevice.objects.filter(pk=device.pk).update(failures=0, last_used_at=timezone.now())
        return SignedIn(user=device.user, device=device)
    TrustedDevice.objects.filter(pk=device.pk).update(failures=F("failures") + 1)
    failures = TrustedDevice.objects.filter(pk=device.pk).values_list("failures", flat=True)
    failures = failures.first()
    if failures is None or failures >= DEVICE_MAX_FAILURES:
        TrustedDevice.objects.filter(pk=device.pk).delete()
        raise Refused("device_forgotten_now")
    if check.locked:
        raise Refused("pin_locked", until=check.locked_until, left=DEVICE_MAX_FAILURES - failures)
    raise Refused("pin_wrong", left=DEVICE_MAX_FAILURES - failures)


def device_remove(*, user: User, pk: int) -> bool:
    """The owner forgets one of their devices."""
    return bool(TrustedDevice.objects.filter(user=user, pk=pk).delete()[0])


def devices_forget_all(*, user: User) -> int:
    """Forget every trusted device of `user` (a new password, «sign out everywhere»)."""
    return TrustedDevice.objects.filter(user=user).delete()[0]


def is_pin_session(request) -> bool:
    return bool(getattr(request, "session", None) and request.session.get(PIN_SESSION_KEY))
