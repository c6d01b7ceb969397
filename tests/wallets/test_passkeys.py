"""Passkeys (allauth.mfa WebAuthn) beside the PIN: a sign-in of their own, never a second step
after the password and never the staff's second factor for the admin. The whole ceremony in a
browser is tests/e2e/test_quick_signin.py (Chromium's virtual authenticator)."""

import time

import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.internal.flows import login as login_flow
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.test import Client
from django.urls import reverse

from config.staff import mfa_passed
from tests.factories import PASSWORD, UserFactory, make_wallet

pytestmark = pytest.mark.django_db


def test_passkey_login_is_on_beside_the_staff_authenticator_app():
    assert settings.MFA_SUPPORTED_TYPES == ["totp", "recovery_codes", "webauthn"]
    assert mfa_settings.PASSKEY_LOGIN_ENABLED is True
    assert reverse("mfa_login_webauthn") == "/accounts/2fa/webauthn/login/"


@pytest.mark.parametrize(
    ("lang", "caption"), [("ru", "Войти с ключом доступа"), ("ky", "Кирүү ачкычы менен кирүү")]
)
def test_the_sign_in_page_offers_a_passkey_to_the_script_only(client, lang, caption):
    client.cookies["kapchyk_language"] = lang
    html = client.get(reverse("account_login")).content.decode()
    assert caption in html
    assert 'id="passkey-signin" hidden' in html  # shown by quick-signin.js, where supported
    assert 'id="pin-signin" hidden' in html


def test_the_login_endpoint_gives_request_options_to_the_script(client):
    response = client.get(reverse("mfa_login_webauthn"), headers={"accept": "application/json"})
    assert response.status_code == 200
    options = response.json()["request_options"]["publicKey"]
    assert options["challenge"] and options["rpId"] == "testserver"


def reauthenticated(user) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session[login_flow._AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
    session.save()
    return client


@pytest.mark.parametrize(
    ("lang", "title"), [("ru", "Добавить ключ доступа"), ("ky", "Кирүү ачкычын кошуу")]
)
def test_adding_a_passkey_begins_a_registration_of_a_discoverable_key(lang, title):
    user = make_wallet().user
    client = reauthenticated(user)
    client.cookies["kapchyk_language"] = lang
    response = client.get(reverse("mfa_add_webauthn"))
    assert response.status_code == 200
    assert title in response.content.decode()
    options = response.context["js_data"]["creation_options"]["publicKey"]
    assert options["authenticatorSelection"]["residentKey"] == "required"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["user"]["id"]


def test_adding_a_passkey_asks_for_the_password_first():
    user = make_wallet().user
    client = Client()
    client.force_login(user)
    response = client.get(reverse("mfa_add_webauthn"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_reauthenticate"))


def test_a_passkey_is_not_a_second_step_after_the_password():
    user = make_wallet().user
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.WEBAUTHN, data={"name": "Ключ", "credential": {}}
    )
    client = Client()
    step = client.post(reverse("account_login"), {"phone": user.phone})
    response = client.post(step["Location"], {"password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("wallets:home")
    assert client.get(reverse("wallets:home")).status_code == 200


def test_a_passkey_sign_in_does_not_open_the_admin(rf):
    staff = UserFactory(is_staff=True)
    request = rf.get("/")
    request.user = staff
    request.session = {
        AUTHENTICATION_METHODS_SESSION_KEY: [
            {"method": "mfa", "type": "webauthn", "passwordless": True, "at": time.time()}
        ]
    }
    request.session[login_flow._AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(staff.pk)
    assert not mfa_passed(request)
    request.session[AUTHENTICATION_METHODS_SESSION_KEY].append(
        {"method": "mfa", "type": "totp", "at": time.time()}
    )
    assert mfa_passed(request)


def test_a_pin_session_may_confirm_with_a_passkey_instead_of_the_password():
    from tests.wallets.test_quick_signin import pin_session

    user, client = pin_session()
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.WEBAUTHN, data={"name": "Ключ", "credential": {}}
    )
    page = client.get(client.get("/cards/add/")["Location"])
    assert page.status_code == 200
    alternatives = [alt["url"] for alt in page.context["reauthentication_alternatives"]]
    assert any(url.startswith(reverse("mfa_reauthenticate_webauthn")) for url in alternatives)
