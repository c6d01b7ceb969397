"""Staff sign-in to the admin: number + password (rate limited like the public sign-in),
then an authenticator code (TOTP, computed here per RFC 6238) or a recovery code."""

import importlib
import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, TOTP, generate_totp_secret
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import clear_url_caches, reverse

from tests.factories import PASSWORD, UserFactory, make_wallet
from tests.staff import ENROL_SMS, current_totp, pass_sms_enrolment, sms_enrolment_code, wrong_totp
from wallets.models import SmsMessage

pytestmark = pytest.mark.django_db

STAFF_PHONE, STAFF_TYPED = "+996555700001", "0555 700 001"
ADMIN = "/admin/"
LOGIN = "/admin/login/"
AUTHENTICATE = "/accounts/2fa/authenticate/"
ACTIVATE = "/accounts/2fa/totp/activate/"
RECOVERY_CODES = "/accounts/2fa/recovery-codes/"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]*>", " ", response.content.decode()).split())


def is_429(response) -> bool:
    return response.status_code == 429 and "Слишком много попыток" in page_text(response)


def staff(**extra):
    return UserFactory(phone=STAFF_PHONE, is_staff=True, **extra)


def with_totp(user) -> str:
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def sign_in(client, typed=STAFF_TYPED, password=PASSWORD, next_url=ADMIN):
    return client.post(
        f"{LOGIN}?next={next_url}", {"username": typed, "password": password, "next": next_url}
    )


def test_the_admin_asks_for_the_number_and_password(client):
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={ADMIN}"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="username"' in html and 'type="tel"' in html
    assert 'name="password"' in html and 'type="password"' in html
    assert "Мобильный номер" in page_text(page)


def test_first_sign_in_sets_up_the_authenticator_then_opens_the_admin(client):
    user = staff()
    response = sign_in(client)
    assert response.status_code == 302
    # Signed in with the password only: the admin stays shut and asks for an app first.
    assert client.get(ADMIN)["Location"] == f"{LOGIN}?next={ADMIN}"
    assert client.get(f"{LOGIN}?next={ADMIN}")["Location"] == ACTIVATE
    assert client.get(ACTIVATE)["Location"] == ENROL_SMS  # a code by SMS first
    pass_sms_enrolment(client, user)
    setup = client.get(ACTIVATE)
    html = setup.content.decode()
    assert setup.status_code == 200
    assert "<svg" in html and "<?xml" not in html  # the QR code, inline (CSP: no data: URLs)
    assert "data:image" not in html
    secret = re.search(r"<code>([A-Z2-7]{32})</code>", html)[1]

    wrong = client.post(ACTIVATE, {"code": wrong_totp(secret)})
    assert wrong.status_code == 200
    assert not Authenticator.objects.filter(user=user).exists()
    assert client.get(ADMIN).status_code == 302

    done = client.post(ACTIVATE, {"code": current_totp(secret)})
    assert done.status_code == 302
    assert done["Location"] == RECOVERY_CODES
    assert set(Authenticator.objects.filter(user=user).values_list("type", flat=True)) == {
        "totp",
        "recovery_codes",
    }
    codes_page = client.get(RECOVERY_CODES)
    codes = re.findall(r"<li><code>(\d{8})</code></li>", codes_page.content.decode())
    assert len(codes) == 10
    assert f'href="{ADMIN}"' in codes_page.content.decode()  # «Continue to the admin»
    assert client.get(ADMIN).status_code == 200


def test_setting_up_an_app_needs_the_code_sent_by_sms_to_the_staff_number(client):
    """Before: the password alone let whoever signed in first enrol their own app."""
    user = staff()
    sign_in(client)
    page = client.get(ENROL_SMS)
    assert page.status_code == 200
    assert "+996 555 700 001" in page_text(page)
    # No secret before the SMS code (the header's brand mark is an SVG too: look in <main>).
    assert "<svg" not in page.content.decode().split("<main", 1)[1]
    # Without the code the set-up shows no secret and enrols nothing, whatever is posted.
    assert client.get(ACTIVATE)["Location"] == ENROL_SMS
    secret = generate_totp_secret()
    session = client.session
    session[SECRET_SESSION_KEY] = secret  # as if a page had shown it
    session.save()
    assert client.post(ACTIVATE, {"code": current_totp(secret)})["Location"] == ENROL_SMS
    assert not Authenticator.objects.filter(user=user).exists()

    code = sms_enrolment_code(client, user)
    (sms,) = SmsMessage.objects.filter(phone=STAFF_PHONE)
    assert sms.text.startswith(f"Капчык: код {code} для подключения приложения-аутентификатора.")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = client.post(ENROL_SMS, {"action": "verify", "code": wrong})
    assert "Неверный код." in page_text(response)
    assert client.get(ACTIVATE)["Location"] == ENROL_SMS
    # The third wrong code voids it; the right one no longer works.
    client.post(ENROL_SMS, {"action": "verify", "code": wrong})
    client.post(ENROL_SMS, {"action": "verify", "code": wrong})
    assert client.post(ENROL_SMS, {"action": "verify", "code": code})["Location"] == ENROL_SMS
    assert client.get(ACTIVATE)["Location"] == ENROL_SMS

    pass_sms_enrolment(client, user)
    assert "<svg" in client.get(ACTIVATE).content.decode().split("<main", 1)[1]


def test_the_enrolment_code_is_only_for_the_session_and_the_user_it_was_sent_to(client):
    user = staff()
    sign_in(client)
    code = sms_enrolment_code(client, user)
    other = Client()
    UserFactory(phone="+996555700002", is_staff=True)
    sign_in(other, typed="0555 700 002")
    assert other.post(ENROL_SMS, {"action": "verify", "code": code})["Location"] == ENROL_SMS
    assert other.get(ACTIVATE)["Location"] == ENROL_SMS


def test_enrolment_codes_are_sent_at_most_three_times_in_ten_minutes(client):
    user = staff()
    sign_in(client)
    for _ in range(3):
        sms_enrolment_code(client, user)
    assert is_429(client.post(ENROL_SMS, {"action": "send"}))
    assert SmsMessage.objects.filter(phone=STAFF_PHONE).count() == 3


def test_sign_in_with_the_authenticator_code(client, settings):
    user = staff()
    secret = with_totp(user)
    planted = client.session.session_key  # a session id an attacker might have planted
    response = sign_in(client)
    assert response.status_code == 302
    assert response["Location"] == AUTHENTICATE
    # The password alone signs nobody in.
    assert SESSION_KEY not in client.session
    assert client.get(ADMIN)["Location"].startswith(LOGIN)

    page = client.get(AUTHENTICATE)
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()
    wrong = client.post(AUTHENTICATE, {"code": wrong_totp(secret)})
    assert wrong.status_code == 200
    assert 'class="errorlist"' in wrong.content.decode()
    assert SESSION_KEY not in client.session

    right = client.post(AUTHENTICATE, {"code": current_totp(secret)})
    assert right.status_code == 302
    assert right["Location"] == ADMIN
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session.session_key != planted  # session fixation: a new id at sign-in
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != planted
    index = client.get(ADMIN)
    assert index.status_code == 200
    assert "Администрирование «Капчык»" in page_text(index)

    # The planted id is worth nothing.
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = planted
    assert attacker.get(ADMIN).status_code == 302


def test_the_same_code_does_not_work_twice(client):
    user = staff()
    secret = with_totp(user)
    code = current_totp(secret)
    sign_in(client)
    assert client.post(AUTHENTICATE, {"code": code}).status_code == 302
    other = Client()
    sign_in(other)
    assert other.post(AUTHENTICATE, {"code": code}).status_code == 200  # replayed: refused
    assert SESSION_KEY not in other.session


def test_a_recovery_code_works_instead_of_the_app_once(client):
    user = staff()
    with_totp(user)
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    recovery = RecoveryCodes.activate(user)
    code = recovery.get_unused_codes()[0]
    sign_in(client)
    assert client.post(AUTHENTICATE, {"code": code})["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200

    again = Client()
    sign_in(again)
    assert again.post(AUTHENTICATE, {"code": code}).status_code == 200
    assert SESSION_KEY not in again.session


def test_a_wallet_owner_cannot_sign_in_to_the_admin(client):
    owner = UserFactory(phone=STAFF_PHONE)
    make_wallet(user=owner)
    response = sign_in(client)
    assert response.status_code == 200
    assert "Введите правильные мобильный номер и пароль для учётной записи персонала." in page_text(
        response
    )
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("typed", ["", "0312 123456", "not a number"])
def test_bad_numbers_are_refused_with_a_message(client, typed):
    staff()
    response = sign_in(client, typed=typed)
    assert response.status_code == 200
    assert 'class="errorlist' in response.content.decode()
    assert SESSION_KEY not in client.session


def test_the_sixth_wrong_password_in_five_minutes_gets_the_429_page(client):
    staff()
    for _ in range(5):
        assert sign_in(client, password="wrong-pass1").status_code == 200
    assert is_429(sign_in(client, password="wrong-pass1"))
    assert is_429(sign_in(client))  # even the right password, for this number
    assert SESSION_KEY not in client.session
    other = UserFactory(phone="+996555700002", is_staff=True)
    with_totp(other)
    assert sign_in(Client(), typed="0555 700 002")["Location"] == AUTHENTICATE


def test_the_public_and_the_admin_sign_in_share_one_limit_per_number(client):
    user = staff()
    make_wallet(user=user)
    public = Client()
    assert public.post("/accounts/login/", {"phone": STAFF_TYPED}).status_code == 302
    for _ in range(3):
        assert (
            public.post("/accounts/login/password/", {"password": "bad-pass1"}).status_code == 200
        )
    for _ in range(2):
        assert sign_in(client, password="wrong-pass1").status_code == 200
    assert is_429(sign_in(client, password="wrong-pass1"))


def test_the_sixth_wrong_code_gets_the_429_page(client):
    user = staff()
    secret = with_totp(user)
    sign_in(client)
    for _ in range(5):
        assert client.post(AUTHENTICATE, {"code": wrong_totp(secret)}).status_code == 200
    assert is_429(client.post(AUTHENTICATE, {"code": wrong_totp(secret)}))
    assert is_429(client.post(AUTHENTICATE, {"code": current_totp(secret)}))
    assert SESSION_KEY not in client.session


def test_staff_signed_in_elsewhere_give_the_code_before_the_admin_opens(client):
    user = staff()
    secret = with_totp(user)
    client.force_login(user)  # e.g. a session from before the second factor
    assert client.get(ADMIN)["Location"] == f"{LOGIN}?next={ADMIN}"
    to_code = client.get(f"{LOGIN}?next={ADMIN}")
    assert to_code["Location"] == f"/accounts/2fa/reauthenticate/?next={ADMIN.replace('/', '%2F')}"
    page = client.get(to_code["Location"])
    assert page.status_code == 200
    done = client.post(to_code["Location"], {"code": current_totp(secret), "next": ADMIN})
    assert done.status_code == 302
    assert done["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_staff_cannot_switch_their_second_factor_off(client):
    user = staff()
    secret = with_totp(user)
    sign_in(client)
    client.post(AUTHENTICATE, {"code": current_totp(secret)})
    client.post("/accounts/2fa/totp/deactivate/")
    assert Authenticator.objects.filter(user=user, type="totp").exists()


def test_the_admin_lives_where_the_environment_says(settings):
    import config.urls

    settings.ADMIN_URL = "back-office-7f3a/"
    try:
        settings.ROOT_URLCONF = importlib.reload(config.urls).__name__
        clear_url_caches()
        assert reverse("admin:index") == "/back-office-7f3a/"
        client = Client()
        assert client.get("/back-office-7f3a/login/").status_code == 200
        assert client.get("/admin/").status_code == 404
        assert client.get("/admin/login/").status_code == 404
    finally:
        settings.ADMIN_URL = "admin/"
        importlib.reload(config.urls)
        clear_url_caches()
    assert reverse("admin:index") == "/admin/"


def test_sign_in_attempts_per_address_are_limited_too(settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    numbers = ["0555 700 011", "0555 700 012", "0555 700 013"]
    for typed in numbers:  # a different number each time: the per-number limit never trips
        assert sign_in(Client(), typed=typed, password="wrong-pass1").status_code == 200
    assert is_429(sign_in(Client(), typed="0555 700 014", password="wrong-pass1"))


def test_the_authenticator_code_typed_in_full_width_digits(client):
    user = staff()
    secret = with_totp(user)
    assert sign_in(client)["Location"] == AUTHENTICATE
    full_width = current_totp(secret).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    right = client.post(AUTHENTICATE, {"code": full_width})
    assert right.status_code == 302
    assert right["Location"] == ADMIN
    assert client.session[SESSION_KEY] == str(user.pk)
