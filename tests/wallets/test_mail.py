"""E-mail under production settings: MAILERS from EMAIL_HOST, EMAIL_PORT, …, delivered to a
real SMTP server (aiosmtpd on 127.0.0.1) started by the test."""

import logging
import re

import pytest
from django.test import Client

from tests.factories import PASSWORD, make_wallet
from tests.smtp import SmtpServer, free_port, production_settings

pytestmark = pytest.mark.django_db

SMTP = "django.core.mail.backends.smtp.EmailBackend"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_production_reads_the_smtp_settings_from_the_environment(monkeypatch):
    prod = production_settings(
        monkeypatch,
        EMAIL_HOST="smtp.example.kg",
        EMAIL_PORT="587",
        EMAIL_HOST_USER="kapchyk",
        EMAIL_HOST_PASSWORD="s3cret",
        EMAIL_USE_TLS="true",
        EMAIL_TIMEOUT="7.5",
    )
    assert prod["MAILERS"] == {
        "default": {
            "BACKEND": SMTP,
            "OPTIONS": {
                "host": "smtp.example.kg",
                "port": 587,
                "username": "kapchyk",
                "password": "s3cret",
                "use_tls": True,
                "use_ssl": False,
                "timeout": 7.5,
            },
        }
    }
    assert "EMAIL_BACKEND" not in prod and "EMAIL_HOST" not in prod  # MAILERS only

    default = production_settings(monkeypatch)["MAILERS"]["default"]
    assert (default["BACKEND"], default["OPTIONS"]["host"]) == (SMTP, "localhost")
    development = production_settings(monkeypatch, DJANGO_DEBUG="true")["MAILERS"]
    assert development == {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}


def signed_in_owner():
    wallet = make_wallet()
    client = Client(raise_request_exception=False)
    client.post("/accounts/login/", {"phone": wallet.number})
    assert client.post("/accounts/login/password/", {"password": PASSWORD}).status_code == 302
    return wallet.user, client


def test_the_email_link_goes_through_smtp_under_production_settings(
    monkeypatch, settings, django_capture_on_commit_callbacks
):
    """Before: MAILERS['default'] had no host, and the POST answered 500."""
    server = SmtpServer(users={"kapchyk": "s3cret"}).start()
    try:
        prod = production_settings(
            monkeypatch,
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(server.port),
            EMAIL_HOST_USER="kapchyk",
            EMAIL_HOST_PASSWORD="s3cret",
            EMAIL_TIMEOUT="5",
        )
        settings.MAILERS = prod["MAILERS"]
        user, client = signed_in_owner()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/accounts/email/",
                {"email": "New@Example.kg", "password": PASSWORD, "action_add": ""},
            )
    finally:
        server.stop()

    assert response.status_code == 302
    assert [(letter.to, letter.login) for letter in server.letters] == [
        (["new@example.kg"], "kapchyk")
    ]
    letter = server.letters[0]
    assert letter.sender == "noreply@kapchyk.kg"
    assert letter.subject == "[Kapchyk] Подтвердите email вашего кошелька"
    assert re.search(r"http://testserver/accounts/confirm-email/\S+/", letter.body)


def test_a_mail_server_that_is_down_is_logged_not_a_500(
    monkeypatch, settings, caplog, django_capture_on_commit_callbacks
):
    closed = free_port()  # nothing listens there
    settings.MAILERS = production_settings(
        monkeypatch, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(closed), EMAIL_TIMEOUT="2"
    )["MAILERS"]
    user, client = signed_in_owner()
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/email/", {"email": "new@example.kg", "password": PASSWORD}
        )
    assert response.status_code == 302
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "E-mail account/email/email_confirmation not delivered: ConnectionRefusedError"
    ]
