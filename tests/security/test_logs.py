"""No password, authenticator secret or code, or recovery code reaches a log on the
admin's sign-in (the public sign-in, SMS codes and PINs: tests/test_logging.py)."""

import logging
import re

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import SESSION_KEY
from django.test import Client

from tests.factories import PASSWORD, UserFactory
from tests.staff import ENROL_SMS, current_totp, sms_enrolment_code, wrong_totp
from tests.test_logging import _everything_logged, assert_absent, production_log

pytestmark = pytest.mark.django_db


def test_admin_sign_in_logs_no_secret(caplog):
    staff = UserFactory(phone="+996555700009", is_staff=True)
    caplog.set_level(logging.DEBUG)
    with production_log() as lines:
        # First sign-in: the password, then setting up the authenticator app.
        client = Client()
        client.post("/admin/login/", {"username": staff.phone, "password": "wrongPass77"})
        client.post("/admin/login/", {"username": staff.phone, "password": PASSWORD})
        sms_code = sms_enrolment_code(client, staff)
        client.post(ENROL_SMS, {"action": "verify", "code": sms_code})
        page = client.get("/accounts/2fa/totp/activate/").content.decode()
        secret = re.search(r"<code>([A-Z2-7]{32})</code>", page)[1]
        bad = wrong_totp(secret)
        client.post("/accounts/2fa/totp/activate/", {"code": bad})
        first = current_totp(secret)
        assert client.post("/accounts/2fa/totp/activate/", {"code": first}).status_code == 302
        codes = Authenticator.objects.get(user=staff, type=Authenticator.Type.RECOVERY_CODES)
        recovery = codes.wrap().get_unused_codes()
        # Next sign-in: the password and a recovery code.
        client = Client()
        client.post("/admin/login/", {"username": staff.phone, "password": PASSWORD})
        assert client.post("/accounts/2fa/authenticate/", {"code": recovery[0]}).status_code == 302
        assert client.session[SESSION_KEY] == str(staff.pk)

    logged = _everything_logged(caplog, lines)
    assert "kapchyk.request" in logged
    for secret_text in (PASSWORD, "wrongPass77", sms_code, secret, bad, first, *recovery):
        assert_absent(secret_text, logged)
