"""Brute force: every secret a person types is limited.

- web sign-in: the 6th wrong password for a number within 5 minutes → the 429 page
  (here, and tests/wallets/test_auth.py);
- the admin's sign-in shares that limit; the 6th wrong authenticator code → 429
  (tests/security/test_admin_sign_in.py);
- SMS codes: 3 wrong codes end the attempt, resends are limited (tests/wallets/test_auth.py);
- USSD PINs: 3 wrong PINs lock the PIN for 30 minutes, across sessions and concurrent
  requests (tests/ussd/test_pin.py).
`test_the_other_brute_force_tests_exist` keeps those references true.
"""

import importlib
import time

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import PASSWORD, make_wallet

pytestmark = pytest.mark.django_db

REFERENCES = {
    "tests.wallets.test_auth": [
        "test_the_sixth_wrong_password_in_five_minutes_gets_the_429_page",
        "test_three_wrong_codes_end_the_registration_with_the_429_page",
        "test_resending_the_code_past_the_limit_shows_the_429_page",
        "test_the_sms_limit_hit_by_a_new_registration_shows_the_429_page",
    ],
    "tests.ussd.test_pin": [
        "test_three_wrong_pins_lock_for_30_minutes_across_sessions",
        "test_concurrent_wrong_pins_lock_once",
    ],
    "tests.security.test_admin_sign_in": [
        "test_the_sixth_wrong_password_in_five_minutes_gets_the_429_page",
        "test_the_public_and_the_admin_sign_in_share_one_limit_per_number",
        "test_the_sixth_wrong_code_gets_the_429_page",
    ],
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_other_brute_force_tests_exist():
    for module, names in REFERENCES.items():
        tests = importlib.import_module(module)
        for name in names:
            assert callable(getattr(tests, name, None)), f"{module}.{name}"


def test_the_limits_are_as_documented():
    limits = settings.ACCOUNT_RATE_LIMITS
    assert limits["login_failed"] == "5/5m/key"  # passwords and authenticator codes
    assert limits["verify_phone"].startswith("3/m/key")  # SMS codes sent per number
    assert settings.ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS == 3  # wrong SMS codes


def sign_in(client, number, password):
    client.post("/accounts/login/", {"phone": number})
    return client.post("/accounts/login/password/", {"password": password})


def test_the_sixth_wrong_password_is_refused_and_the_lock_ends_after_five_minutes(monkeypatch):
    wallet = make_wallet()
    client = Client()
    for _ in range(5):
        assert sign_in(client, wallet.number, "wrong-pass1").status_code == 200
    assert sign_in(client, wallet.number, "wrong-pass1").status_code == 429
    assert sign_in(Client(), wallet.number, PASSWORD).status_code == 429  # another browser too
    # Five minutes on, the number may try again.
    later = time.time() + 5 * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)
    assert sign_in(Client(), wallet.number, PASSWORD).status_code == 302
