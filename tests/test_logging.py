"""Structured logs with a request id; no password, SMS code or PIN ever reaches a log."""

import io
import json
import logging
import os
import re
import secrets
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import check_password, make_password
from django.test import Client

from tests.factories import PASSWORD, ProviderFactory, UserFactory, make_payment, make_wallet
from wallets.logging import JsonFormatter, RequestIdFilter
from wallets.models import SmsMessage, User, Wallet

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def production_log():
    """Everything logged meanwhile, formatted exactly as production writes it (JSON lines)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    lines: list[dict] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


def test_json_formatter_writes_one_object_per_line():
    record = logging.LogRecord("kapchyk.x", logging.WARNING, __file__, 1, "a %s", ("b",), None)
    record.status = 503
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "kapchyk.x"
    assert entry["message"] == "a b"
    assert entry["request_id"] == "-"  # outside a request
    assert entry["status"] == 503
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["time"])


def test_json_formatter_keeps_tracebacks_on_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("k", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exc"]


@pytest.mark.django_db
def test_every_record_of_a_request_carries_its_id():
    with production_log() as lines:
        response = Client().get("/healthz")
    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert lines, "the request wrote its access line"
    assert {line["request_id"] for line in lines} == {request_id}
    access = [line for line in lines if line["logger"] == "kapchyk.request"]
    assert access[0]["message"] == "GET /healthz 200"
    assert (access[0]["route"], access[0]["status"]) == ("/healthz", 200)


@pytest.mark.django_db
def test_a_valid_incoming_request_id_is_kept():
    response = Client().get("/healthz", headers={"X-Request-ID": "lb-7f3a.2_x"})
    assert response.headers["X-Request-ID"] == "lb-7f3a.2_x"


@pytest.mark.django_db
@pytest.mark.parametrize("given", ["", "has space", "x" * 65, "new\nline", "кириллица", '{"a":1}'])
def test_an_invalid_incoming_request_id_is_replaced(given):
    response = Client().get("/healthz", headers={"X-Request-ID": given})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


@pytest.mark.django_db
def test_two_requests_get_two_ids():
    client = Client()
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_production_writes_json_lines():
    env = {k: v for k, v in os.environ.items() if k not in {"LOG_FORMAT", "DATABASE_URL"}}
    env.update(DJANGO_DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="x.kg")
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('kapchyk.probe').warning('probe %s', 42)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert {k: entry[k] for k in ("level", "logger", "message", "request_id")} == {
        "level": "WARNING",
        "logger": "kapchyk.probe",
        "message": "probe 42",
        "request_id": "-",
    }


# --- Secrets stay out of the logs ---


def _everything_logged(caplog, lines) -> str:
    """The formatted lines, the raw messages and every argument and extra field."""
    parts = [json.dumps(line, ensure_ascii=False) for line in lines]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        parts.append(repr({k: v for k, v in vars(record).items() if k not in {"msg", "args"}}))
    return "\n".join(parts)


def assert_absent(secret: str, text: str):
    assert not re.search(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", text), secret


@pytest.mark.django_db
def test_sign_in_and_registration_log_no_password_or_sms_code(
    caplog, django_capture_on_commit_callbacks
):
    owner = UserFactory()
    caplog.set_level(logging.DEBUG)  # from here on: the test's own factories log at DEBUG
    wrong = "wrongPass2026"
    new_number, new_password = "+996700123987", "fresh2026pass"
    with production_log() as lines:
        # Sign in: the number, a wrong password, then the right one.
        client = Client()
        step = client.post("/accounts/login/", {"phone": owner.phone})
        assert step.status_code == 302
        password_url = step.headers["Location"]
        assert client.post(password_url, {"password": wrong}).status_code == 200
        assert client.post(password_url, {"password": PASSWORD}).status_code == 302
        assert client.session[SESSION_KEY] == str(owner.pk)

        # Registration: the number, email and password, then the SMS code.
        client = Client()
        step = client.post("/accounts/login/", {"phone": new_number})
        assert step.status_code == 302
        with django_capture_on_commit_callbacks(execute=True):
            signup = client.post(
                step.headers["Location"],
                {
                    "email": "new@example.kg",
                    "password1": new_password,
                    "password2": new_password,
                    "offer": "on",
                },
            )
        assert signup.status_code == 302, signup.content.decode()[:3000]
        sms = SmsMessage.objects.get(phone=new_number)
        code = re.search(r"\d{4,}", sms.text)[0]
        verified = client.post(signup.headers["Location"], {"code": code})
        assert verified.status_code == 302
        assert client.session[SESSION_KEY] == str(User.objects.get(phone=new_number).pk)

    logged = _everything_logged(caplog, lines)
    assert "kapchyk.request" in logged  # the requests were logged, and nothing below is
    for secret in (PASSWORD, wrong, new_password, code, sms.text):
        assert_absent(secret, logged)


@pytest.mark.django_db
def test_a_payment_logs_no_sms_text(caplog, django_capture_on_commit_callbacks):
    provider = ProviderFactory()
    wallet = make_wallet(balance=500_00)
    caplog.set_level(logging.DEBUG)
    with production_log() as lines, django_capture_on_commit_callbacks(execute=True):
        payment = make_payment(wallet=wallet, provider=provider, amount=120_00)
    assert payment.status == "succeeded"
    sms = SmsMessage.objects.get(phone=wallet.number)
    assert payment.code in sms.text.replace(" ", "")
    logged = _everything_logged(caplog, lines)
    assert_absent(sms.text, logged)
    assert_absent(payment.code, logged)


@pytest.mark.django_db
def test_ussd_pin_change_logs_no_pin(caplog, settings, django_capture_on_commit_callbacks):
    settings.USSD_SHARED_SECRET = "log-test-secret"
    settings.USSD_ALLOWED_IPS = []
    pin, new_pin, bad_pin = "4826", "7391", "1593"
    wallet = make_wallet(balance=10_00)
    Wallet.objects.filter(pk=wallet.pk).update(pin_hash=make_password(pin))
    client = Client()
    caplog.set_level(logging.DEBUG)
    session = {"id": "log-1"}

    def ussd(text):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/ussd/",
                {"sessionId": session["id"], "serviceCode": "*900#", "phoneNumber": wallet.number,
                 "networkCode": "99999", "text": text},
                headers={"X-USSD-Secret": "log-test-secret"},
            )  # fmt: skip
        assert response.status_code == 200
        return response.content.decode()

    with production_log() as lines:
        ussd("")
        for text in ("8", "8*3", f"8*3*{bad_pin}"):
            ussd(text)
        session["id"] = "log-2"
        for text in ("", "8", "8*3", f"8*3*{pin}", f"8*3*{pin}*{new_pin}"):
            ussd(text)
        last = ussd(f"8*3*{pin}*{new_pin}*{new_pin}")
    assert last.startswith("END"), last
    wallet.refresh_from_db()
    assert check_password(new_pin, wallet.pin_hash)
    logged = _everything_logged(caplog, lines)
    assert "kapchyk.request" in logged
    for secret in (pin, new_pin, bad_pin):
        assert_absent(secret, logged)
