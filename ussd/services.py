"""*900# operations: registration from a phone, the USSD PIN and its brute-force lock.

The PIN lives on the wallet (`Wallet.pin_hash`, hashed with Django's hashers) and every
change of it is a compare-and-set UPDATE, so two sessions of the same number can never
undo each other's change or miss a failed attempt.
"""

import datetime
import re
import secrets
from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from providers.validators import inn_date
from wallets import services as wallet_services
from wallets.models import Offer, User, Wallet
from wallets.sms import send_sms

from .texts import language_or_default, text

PIN_LENGTH = 4
PIN_MAX_ATTEMPTS = 3
PIN_LOCK = datetime.timedelta(minutes=30)

# Letters of any script; words joined by a space, a hyphen or an apostrophe.
_NAME = re.compile(r"^[^\W\d_]+(?:['’\-][^\W\d_]+)*(?: [^\W\d_]+(?:['’\-][^\W\d_]+)*)+$")
_WEAK_PINS = {"0000", "1111", "2222", "3333", "4444", "5555", "6666", "7777", "8888", "9999"}
_WEAK_PINS |= {"1234", "2345", "3456", "4567", "5678", "6789", "4321", "9876", "0123"}


# --- registration ---


def full_name_clean(raw: str) -> str:
    """'  асель   токтогулова ' → 'асель токтогулова'; ValidationError unless 2+ words."""
    name = " ".join(str(raw or "").split())
    if not (3 <= len(name) <= 150) or not _NAME.match(name):
        raise ValidationError("full name", code="invalid_name")
    return name


def personal_inn_clean(raw: str) -> str:
    """A personal INN: 14 digits, 1 or 2 first (sex), then a real birth date DDMMYYYY.

    ValidationError codes: inn_length, inn_first, inn_date (params: date).
    """
    inn = re.sub(r"[\s\-]", "", str(raw or ""))
    if not (len(inn) == 14 and inn.isascii() and inn.isdigit()):
        raise ValidationError("INN length", code="inn_length")
    if inn[0] not in "12":
        raise ValidationError("INN first digit", code="inn_first")
    # providers.validators.inn_date checks the date of birth of a personal INN.
    if inn_date(inn) is not None:
        raise ValidationError(
            "INN date", code="inn_date", params={"date": f"{inn[1:3]}.{inn[3:5]}.{inn[5:9]}"}
        )
    return inn


def ussd_register(*, phone: str, full_name: str, personal_inn: str, language: str) -> Wallet:
    """Open a wallet for the calling number: user, accepted offer, wallet and a PIN by SMS.

    The operator's gateway vouches for the number, so it is verified at once; the user has
    no web password (they can set one through the site's password reset). A web sign-up
    that never proved the number is taken over: its unproven password is discarded.
    Guarantees: all of it commits together or nothing does; the PIN SMS goes out only
    after the commit. Raises ValidationError(code="exists") if the number already has a
    verified wallet and code="no_offer" if no public offer is published.
    """
    full_name = full_name_clean(full_name)
    personal_inn = personal_inn_clean(personal_inn)
    language = language_or_default(language)
    offer = Offer.objects.current()
    if offer is None:
        raise ValidationError("no public offer is published", code="no_offer")
    try:
        with transaction.atomic(durable=True):
            user = User.objects.select_for_update().filter(phone=phone).first()
            if user is not None and (
                user.phone_verified or Wallet.objects.filter(user=user).exists()
            ):
                raise ValidationError("already registered", code="exists")
            if user is None:
                user = User(phone=phone)
            user.phone_verified = True
            user.full_name = full_name
            user.personal_inn = personal_inn
            user.language = language
            user.set_unusable_password()
            user.save()
            wallet_services.offer_accept(user=user, offer=offer)
            wallet = wallet_services.wallet_open(user=user)
            pin_issue(wallet=wallet)
    except IntegrityError:
        # A twin session registered the same number a moment earlier.
        raise ValidationError("already registered", code="exists") from None
    return wallet


def user_language_set(*, user: User, language: str) -> None:
    user.language = language_or_default(language)
    User.objects.filter(pk=user.pk).update(language=user.language)


# --- PIN ---


@dataclass(frozen=True)
class PinCheck:
    ok: bool
    attempts_left: int = 0
    locked_until: datetime.datetime | None = None
    # The hash the PIN was checked against: the compare-and-set key of pin_change.
    hash: str = ""

    @property
    def locked(self) -> bool:
        return self.locked_until is not None


def _new_pin() -> str:
    while True:
        pin = f"{secrets.randbelow(10**PIN_LENGTH):0{PIN_LENGTH}d}"
        if pin not in _WEAK_PINS:
            return pin


def _language(wallet: Wallet) -> str:
    return language_or_default(wallet.user.language)


def _local_time(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def pin_format_ok(pin: str) -> bool:
    return len(pin) == PIN_LENGTH and pin.isascii() and pin.isdigit()


def pin_set(*, wallet: Wallet, pin: str) -> bool:
    """Give a wallet that has no PIN this one: compare-and-set on an empty `pin_hash`, so of
    two sessions at once only one sets it. Returns whether this call set it."""
    return bool(
        Wallet.objects.filter(pk=wallet.pk, pin_hash="").update(
            pin_hash=pin_hash_new(pin), pin_failed_attempts=0, pin_locked_until=None
        )
    )


def pin_issue(*, wallet: Wallet) -> bool:
    """Give a wallet that has no PIN a random one and send it by SMS (after the commit).

    Compare-and-set on an empty `pin_hash`: two sessions at once issue one PIN, one SMS.
    Returns whether this call issued it.
    """
    pin = _new_pin()
    with transaction.atomic():
        issued = pin_set(wallet=wallet, pin=pin)
        if issued:
            message = text("sms_pin", _language(wallet), pin=pin)
            number = wallet.number
            transaction.on_commit(lambda: send_sms(phone=number, text=message, secrets=[pin]))
    if issued:
        wallet.refresh_from_db(fields=["pin_hash", "pin_failed_attempts", "pin_locked_until"])
    return bool(issued)


def pin_locked_until(*, wallet: Wallet) -> datetime.datetime | None:
    """The end of the wallet's PIN lock, read from the database, or None."""
    until = Wallet.objects.filter(pk=wallet.pk).values_list("pin_locked_until", flat=True).first()
    return until if until and until > timezone.now() else None


def pin_check(*, wallet: Wallet, pin: str) -> PinCheck:
    """Check a typed PIN against the wallet's, counting failures in the database.

    Guarantees: while locked nothing is checked or counted; a right PIN clears the count;
    the PIN_MAX_ATTEMPTS-th wrong PIN in a row (across sessions and processes) locks PIN
    use for PIN_LOCK and sends one SMS notice, whoever hit it concurrently.
    """
    now = timezone.now()
    current = (
        Wallet.objects.filter(pk=wallet.pk)
        .values("pin_hash", "pin_locked_until", "pin_failed_attempts")
        .first()
    )
    if current is None or not current["pin_hash"]:
        return PinCheck(ok=False, attempts_left=0)
    if current["pin_locked_until"] and current["pin_locked_until"] > now:
        return PinCheck(ok=False, locked_until=current["pin_locked_until"])
    if pin_format_ok(pin) and check_password(pin, current["pin_hash"]):
        if current["pin_failed_attempts"] or current["pin_locked_until"]:
            Wallet.objects.filter(pk=wallet.pk, pin_hash=current["pin_hash"]).update(
                pin_failed_attempts=0, pin_locked_until=None
            )
        return PinCheck(ok=True, attempts_left=PIN_MAX_ATTEMPTS, hash=current["pin_hash"])
    not_locked = Q(pin_locked_until__isnull=True) | Q(pin_locked_until__lte=now)
    with transaction.atomic():
        # An expired lock starts a fresh count.
        Wallet.objects.filter(pk=wallet.pk, pin_locked_until__lte=now).update(
            pin_locked_until=None, pin_failed_attempts=0
        )
        Wallet.objects.filter(not_locked, pk=wallet.pk).update(
            pin_failed_attempts=F("pin_failed_attempts") + 1
        )
        failed, locked = (
            Wallet.objects.filter(pk=wallet.pk)
            .values_list("pin_failed_attempts", "pin_locked_until")
            .get()
        )
        if locked and locked > now:
            return PinCheck(ok=False, locked_until=locked)
        if failed < PIN_MAX_ATTEMPTS:
            return PinCheck(ok=False, attempts_left=PIN_MAX_ATTEMPTS - failed)
        until = now + PIN_LOCK
        locked_now = Wallet.objects.filter(
            not_locked, pk=wallet.pk, pin_failed_attempts__gte=PIN_MAX_ATTEMPTS
        ).update(pin_locked_until=until, pin_failed_attempts=0)
        if locked_now:
            message = text("sms_pin_locked", _language(wallet), until=_local_time(until))
            number = wallet.number
            transaction.on_commit(lambda: send_sms(phone=number, text=message))
        else:
            until = pin_locked_until(wallet=wallet) or until
    return PinCheck(ok=False, locked_until=until)


def pin_change(*, wallet: Wallet, expected_hash: str, new_hash: str) -> bool:
    """Replace the PIN whose hash was `expected_hash` (checked earlier) by `new_hash`.

    Compare-and-set on the old hash: if the PIN changed meanwhile (another session), nothing
    changes and False is returned. Sends an SMS notice after the commit.
    """
    if not expected_hash or not new_hash:
        return False
    with transaction.atomic():
        changed = Wallet.objects.filter(pk=wallet.pk, pin_hash=expected_hash).update(
            pin_hash=new_hash, pin_failed_attempts=0, pin_locked_until=None
        )
        if changed:
            # A new PIN ends the owner's web sign-ins elsewhere, as a new password does.
            wallet_services.sessions_end_others(user=wallet.user, keep_session_key=None)
            from notifications.devices import secret_changed

            secret_changed(wallet.user, lambda: text("sms_pin_changed", _language(wallet)))
    return bool(changed)


def pin_hash_new(pin: str) -> str:
    """The stored form of a PIN (Django's default hasher, salted)."""
    return make_password(pin)


def pin_matches(pin: str, hashed: str) -> bool:
    return bool(hashed) and pin_format_ok(pin) and check_password(pin, hashed)
