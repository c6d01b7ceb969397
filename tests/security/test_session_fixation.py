"""Session fixation: a session id planted before sign-in is worth nothing after it.

Every sign-in gives a new session id (the public password sign-in, the registration's SMS
code, the admin's sign-in: tests/security/test_admin_sign_in.py), and signing out ends the
session on the server.
"""

import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.factories import PASSWORD, make_wallet
from wallets.models import SmsMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def planted(client) -> str:
    """A session the attacker made and slipped into the victim's browser."""
    return client.session.session_key


def attacker_with(key) -> Client:
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = key
    return attacker


def test_password_sign_in_gets_a_new_session_id(client):
    wallet = make_wallet(balance=5_00)
    key = planted(client)
    client.post("/accounts/login/", {"phone": wallet.number})
    assert client.post("/accounts/login/password/", {"password": PASSWORD}).status_code == 302
    assert client.session[SESSION_KEY] == str(wallet.user_id)
    assert client.session.session_key != key
    assert attacker_with(key).get("/cabinet/").status_code == 302  # to the sign-in


def test_registration_by_sms_code_gets_a_new_session_id(client, django_capture_on_commit_callbacks):
    key = planted(client)
    client.post("/accounts/login/", {"phone": "0700 555 222"})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/signup/",
            {"email": "a@example.kg", "password1": "kapchyk2026", "password2": "kapchyk2026",
             "offer": "on"},
        )  # fmt: skip
    code = re.search(r"\d{6}", SmsMessage.objects.get(phone="+996700555222").text)[0]
    assert client.post("/accounts/phone/verify/", {"code": code}).status_code == 302
    assert SESSION_KEY in client.session
    assert client.session.session_key != key
    assert attacker_with(key).get("/cabinet/").status_code == 302


def test_sign_out_ends_the_session_on_the_server(client):
    wallet = make_wallet()
    client.force_login(wallet.user)
    key = client.session.session_key
    assert client.post("/accounts/logout/").status_code == 302
    assert attacker_with(key).get("/cabinet/").status_code == 302
