"""Quick sign-in on a trusted device (wallets.devices): a device key, a challenge, the PIN.

The browser's side is played here with `cryptography`: a P-256 key whose public half (SPKI)
is enrolled, and signatures turned into WebCrypto's raw r||s form, as the script sends them.
"""

import base64
import datetime

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import PASSWORD, make_wallet
from wallets import devices
from wallets.models import DeviceChallenge, TrustedDevice, Wallet

pytestmark = pytest.mark.django_db

PIN = "4826"
UA = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/130.0 Mobile Safari/537.36"


class BrowserKey:
    """What quick-signin.js keeps in IndexedDB: a P-256 key; it signs like WebCrypto."""

    def __init__(self):
        self.private = ec.generate_private_key(ec.SECP256R1())

    @property
    def spki(self) -> str:
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode()

    def sign(self, message: str) -> str:
        r, s = decode_dss_signature(self.private.sign(message.encode(), ec.ECDSA(hashes.SHA256())))
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def owner_with_pin(pin=PIN):
    wallet = make_wallet(balance=100_00)
    Wallet.objects.filter(pk=wallet.pk).update(pin_hash=make_password(pin))
    return wallet.user


def signed_in(user) -> Client:
    client = Client(headers={"user-agent": UA})
    client.force_login(user)
    return client


def enrol(user, key=None, **extra):
    key = key or BrowserKey()
    response = signed_in(user).post(
        reverse("wallets:device_add"), {"public_key": key.spki, **extra}
    )
    return response, key


def trusted(user=None):
    user = user or owner_with_pin()
    response, key = enrol(user)
    assert response.status_code == 201, response.content
    return user, TrustedDevice.objects.get(public_id=response.json()["device"]), key


def challenge(client, device) -> str:
    response = client.post(reverse("kapchyk_pin_challenge"), {"device": device.public_id})
    assert response.status_code == 200, response.content
    return response.json()["challenge"]


def pin_sign_in(client, device, key, pin=PIN, nonce=None, signature=None):
    nonce = nonce or challenge(client, device)
    return client.post(
        reverse("kapchyk_pin_login"),
        {
            "device": device.public_id,
            "challenge": nonce,
            "signature": signature or key.sign(nonce),
            "pin": pin,
        },
    )


def user_of(client):
    return client.session.get(SESSION_KEY)


def message(response, client) -> str:
    page = client.get(response["Location"])
    return " ".join(m.message for m in page.context["messages"])


# --- turning it on ---


def test_enrolling_stores_the_public_key_and_a_name_from_the_user_agent():
    user = owner_with_pin()
    response, key = enrol(user)
    assert response.status_code == 201
    device = TrustedDevice.objects.get(user=user)
    assert response.json() == {"device": device.public_id, "number": response.json()["number"]}
    assert "***" in response.json()["number"]
    assert device.public_key == key.spki
    assert device.name == "Chrome, Android"
    assert (device.failures, device.last_used_at) == (0, None)


def test_a_wallet_without_a_pin_sets_it_while_enrolling_twice_the_same():
    wallet = make_wallet()
    user = wallet.user
    response, _ = enrol(user, pin1="1357", pin2="1358")
    assert response.status_code == 400
    assert "не совпадают" in response.json()["error"]
    assert not TrustedDevice.objects.exists()
    response, _ = enrol(user)
    assert response.status_code == 400  # no PIN given: nothing stored
    assert not TrustedDevice.objects.exists()
    response, key = enrol(user, pin1="1357", pin2="1357")
    assert response.status_code == 201
    wallet.refresh_from_db()
    from ussd.services import pin_matches

    assert pin_matches("1357", wallet.pin_hash)


@pytest.mark.parametrize(
    "public_key",
    [
        "",
        "abc",
        base64.b64encode(b"not a key").decode(),
        # An RSA key is not a device key.
        base64.b64encode(
            __import__("cryptography.hazmat.primitives.asymmetric.rsa", fromlist=["x"])
            .generate_private_key(public_exponent=65537, key_size=1024)
            .public_key()
            .public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ).decode(),
    ],
    ids=["empty", "garbage", "not-der", "rsa"],
)
def test_a_bad_public_key_is_refused_and_nothing_stored(public_key):
    user = owner_with_pin()
    response = signed_in(user).post(reverse("wallets:device_add"), {"public_key": public_key})
    assert response.status_code == 400
    assert response.json()["error"]
    assert not TrustedDevice.objects.exists()


def test_the_security_page_offers_it_only_to_the_script_and_lists_devices_in_ru_and_ky():
    user, device, _ = trusted()
    client = signed_in(user)
    for lang, title, offer in [
        ("ru", "Вход по ПИН-коду", "Войти по ПИН-коду на этом устройстве"),
        ("ky", "ПИН-код менен кирүү", "Бул түзмөктө ПИН-код менен кирүү"),
    ]:
        client.cookies["kapchyk_language"] = lang
        page = client.get(reverse("wallets:security"))
        html = page.content.decode()
        assert title in html and offer in html, lang
        assert 'id="device-add" hidden' in html  # without JavaScript: not offered
        assert device.name in html
        assert "/static/js/quick-signin." in html


# --- signing in ---


def test_the_device_key_and_the_pin_sign_in_and_mark_the_session():
    user, device, key = trusted()
    client = Client()
    response = pin_sign_in(client, device, key)
    assert response.status_code == 302
    assert user_of(client) == str(user.pk)
    assert client.session[devices.PIN_SESSION_KEY] is True
    device.refresh_from_db()
    assert device.last_used_at is not None
    assert client.get(reverse("wallets:home")).status_code == 200


def test_a_password_sign_in_is_not_a_pin_session():
    user = owner_with_pin()
    client = Client()
    step = client.post("/accounts/login/", {"phone": user.phone})
    assert client.post(step["Location"], {"password": PASSWORD}).status_code == 302
    assert user_of(client) == str(user.pk)
    assert devices.PIN_SESSION_KEY not in client.session


def test_a_forged_signature_is_refused_and_no_pin_is_checked_or_counted():
    user, device, _ = trusted()
    client = Client()
    forger = BrowserKey()  # someone who knows the device id, but not its key
    response = pin_sign_in(client, device, forger)
    assert response.status_code == 302 and user_of(client) is None
    assert "подпись устройства недействительна" in message(response, client).lower()
    device.refresh_from_db()
    wallet = Wallet.objects.get(user=user)
    assert (device.failures, wallet.pin_failed_attempts) == (0, 0)
    # Garbage and a DER signature (not WebCrypto's form) are refused the same way.
    for signature in ["!!!", base64.b64encode(b"x" * 64).decode()]:
        response = pin_sign_in(client, device, forger, signature=signature)
        assert user_of(client) is None


def test_a_replayed_challenge_is_refused():
    user, device, key = trusted()
    client = Client()
    nonce = challenge(client, device)
    assert pin_sign_in(client, device, key, nonce=nonce).status_code == 302
    assert user_of(client) == str(user.pk)
    client.post(reverse("account_logout"))
    other = Client()  # the same signed request, sent again
    response = pin_sign_in(other, device, key, nonce=nonce)
    assert user_of(other) is None
    assert "истёк или уже использован" in message(response, other)


def test_an_expired_challenge_or_another_devices_is_refused():
    user, device, key = trusted()
    _, other_device, _ = trusted(user)
    client = Client()
    nonce = challenge(client, device)
    DeviceChallenge.objects.filter(nonce=nonce).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    pin_sign_in(client, device, key, nonce=nonce)
    assert user_of(client) is None
    nonce = challenge(client, other_device)
    pin_sign_in(client, device, key, nonce=nonce)
    assert user_of(client) is None


def test_a_pin_tried_from_a_forgotten_device_is_refused():
    user, device, key = trusted()
    client = Client()
    nonce = challenge(client, device)
    signed_in(user).post(reverse("wallets:device_remove", args=[device.pk]))
    assert not TrustedDevice.objects.filter(pk=device.pk).exists()
    response = pin_sign_in(client, device, key, nonce=nonce)
    assert user_of(client) is None
    assert "больше не доверено" in message(response, client)
    # Asking for a challenge tells the script to drop the key.
    answer = client.post(reverse("kapchyk_pin_challenge"), {"device": device.public_id})
    assert answer.status_code == 410 and answer.json()["forgotten"] is True


def test_five_wrong_pins_forget_the_device_and_three_lock_the_wallets_pin():
    user, device, key = trusted()
    wallet = Wallet.objects.get(user=user)
    client = Client()
    texts = []
    for _ in range(3):
        texts.append(message(pin_sign_in(client, device, key, pin="0000"), client))
    assert "Осталось попыток на этом устройстве: 4" in texts[0]
    assert "Осталось попыток на этом устройстве: 3" in texts[1]
    wallet.refresh_from_db()
    assert wallet.pin_locked_until is not None  # the *900# rule: 3 wrong in a row
    assert "заблокирован" in texts[2]
    # While locked even the right PIN is not checked, and nothing counts.
    response = pin_sign_in(client, device, key)
    assert user_of(client) is None and "заблокирован" in message(response, client)
    device.refresh_from_db()
    assert device.failures == 3
    # Half an hour later: two more wrong PINs and the device is forgotten.
    Wallet.objects.filter(pk=wallet.pk).update(pin_locked_until=None)
    pin_sign_in(client, device, key, pin="1111")
    response = pin_sign_in(client, device, key, pin="2222")
    assert "устройство забыто" in message(response, client)
    assert not TrustedDevice.objects.filter(pk=device.pk).exists()
    # The right PIN from it no longer signs in; the sign-in page drops its key.
    answer = client.post(reverse("kapchyk_pin_challenge"), {"device": device.public_id})
    assert answer.status_code == 410
    assert user_of(client) is None


def test_the_sign_in_page_tells_the_script_which_device_was_forgotten():
    user, device, key = trusted()
    Wallet.objects.filter(user=user).update(pin_locked_until=None)
    TrustedDevice.objects.filter(pk=device.pk).update(failures=4)
    client = Client()
    response = pin_sign_in(client, device, key, pin="0000")
    page = client.get(response["Location"])
    assert f'data-forgotten="{device.public_id}"' in page.content.decode()
    assert 'data-forgotten="' not in client.get(response["Location"]).content.decode()


def test_a_right_pin_clears_the_devices_count():
    user, device, key = trusted()
    client = Client()
    pin_sign_in(client, device, key, pin="0000")
    pin_sign_in(client, device, key)
    device.refresh_from_db()
    assert device.failures == 0


# --- forgetting them all ---


def test_sign_out_everywhere_forgets_every_device():
    user, device, _ = trusted()
    trusted(user)
    client = signed_in(user)
    assert client.post(reverse("wallets:security")).status_code == 302
    assert not TrustedDevice.objects.filter(user=user).exists()


def test_a_password_change_forgets_every_device():
    user, device, key = trusted()
    client = signed_in(user)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "newpass2027x", "password2": "newpass2027x"},
    )
    assert response.status_code == 302
    assert not TrustedDevice.objects.filter(user=user).exists()
    assert (
        Client().post(reverse("kapchyk_pin_challenge"), {"device": device.public_id}).status_code
        == 410
    )


def test_another_owners_device_cannot_be_removed():
    user, device, _ = trusted()
    stranger = owner_with_pin("9753")
    response = signed_in(stranger).post(reverse("wallets:device_remove", args=[device.pk]))
    assert response.status_code == 404
    assert TrustedDevice.objects.filter(pk=device.pk).exists()


# --- sensitive actions in a PIN session ---


def pin_session():
    user, device, key = trusted()
    client = Client()
    assert pin_sign_in(client, device, key).status_code == 302
    return user, client


@pytest.mark.parametrize(
    "url", ["/cards/add/", "/cabinet/security/pin/", "/accounts/password/change/"]
)
def test_a_pin_session_asks_for_the_password_before_sensitive_actions(url):
    user, client = pin_session()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    # A POST is refused the same way and not kept (no card number in the session).
    response = client.post(url, {"number": "4111111111111111", "cvv": "123"})
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    assert "4111111111111111" not in str(dict(client.session))
    # The password again: then the page opens.
    answer = client.post(response["Location"], {"password": PASSWORD})
    assert answer.status_code == 302
    assert client.get(url).status_code == 200


def test_a_password_session_goes_straight_to_sensitive_actions():
    user = owner_with_pin()
    client = signed_in(user)
    assert client.get("/cards/add/").status_code == 200
    assert client.get("/cabinet/security/pin/").status_code == 200


def test_a_pin_session_cannot_trust_another_device():
    user, client = pin_session()
    response = client.post(reverse("wallets:device_add"), {"public_key": BrowserKey().spki})
    assert response.status_code == 403
    assert TrustedDevice.objects.filter(user=user).count() == 1


# --- the PIN on the web ---


def test_changing_the_pin_needs_the_current_one_and_forgets_the_devices():
    user, device, _ = trusted()
    client = signed_in(user)
    url = reverse("wallets:pin_change")
    response = client.post(url, {"current": "0000", "pin1": "2468", "pin2": "2468"})
    assert response.status_code == 400
    assert "Неверный ПИН-код" in response.content.decode()
    response = client.post(url, {"current": PIN, "pin1": "2468", "pin2": "2468"})
    assert response.status_code == 302
    from ussd.services import pin_matches

    assert pin_matches("2468", Wallet.objects.get(user=user).pin_hash)
    assert not TrustedDevice.objects.filter(user=user).exists()
    assert client.get(reverse("wallets:home")).status_code == 200  # still signed in here


@pytest.mark.parametrize(
    "code", ["device_forgotten", "device_forgotten_now", "challenge_invalid", "signature_invalid"]
)
def test_refusals_are_worded_in_kyrgyz_and_russian(code):
    from wallets.device_views import refusal_text

    with translation.override("ky"):
        ky = refusal_text(devices.Refused(code))
    with translation.override("ru"):
        ru = refusal_text(devices.Refused(code))
    assert ky != ru
    assert "PIN" not in ru and "PIN" not in ky


def test_challenges_and_tries_are_limited_per_address(settings):
    settings.KAPCHYK_PIN_SIGN_IN_RATE = "3/m/ip"
    _, device, key = trusted()
    client = Client()
    for _ in range(3):
        assert (
            client.post(reverse("kapchyk_pin_challenge"), {"device": device.public_id}).status_code
            == 200
        )
    assert (
        client.post(reverse("kapchyk_pin_challenge"), {"device": device.public_id}).status_code
        == 429
    )
    assert (
        client.post(reverse("kapchyk_pin_login"), {"device": device.public_id}).status_code == 429
    )


def test_the_housekeeping_loop_purges_expired_challenges():
    from config.housekeeping import _clearsessions

    _, device, _ = trusted()
    live = challenge(Client(), device)
    old = challenge(Client(), device)
    DeviceChallenge.objects.filter(nonce=old).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert _clearsessions() == "done, 1 device challenges purged"
    assert list(DeviceChallenge.objects.values_list("nonce", flat=True)) == [live]
