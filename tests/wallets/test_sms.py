import datetime
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone

from billing import services as billing_services
from tests.factories import ProviderFactory, make_wallet
from ussd import services as ussd_services
from wallets.models import SmsMessage
from wallets.sms import outbox_redact, send_sms

pytestmark = pytest.mark.django_db


class Gateway:
    """A real HTTP SMS gateway on 127.0.0.1 that records what it receives."""

    def __init__(self, status=200):
        received = self.received = []
        answer = status

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.headers.get("Authorization"), json.loads(body)))
                self.send_response(answer)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway():
    server = Gateway()
    yield server
    server.close()


def test_outbox_backend_stores_the_message():
    send_sms(phone="+996555000001", text="Код 123456")
    message = SmsMessage.objects.get()
    assert (message.phone, message.text, message.backend) == (
        "+996555000001",
        "Код 123456",
        "OutboxBackend",
    )


def test_console_backend_prints_and_stores(settings, capsys):
    settings.DEBUG = True
    settings.SMS_BACKEND = "wallets.sms.ConsoleAndOutboxBackend"
    send_sms(phone="+996700000001", text="hello")
    assert "[SMS to +996700000001] hello" in capsys.readouterr().out
    assert SmsMessage.objects.get().backend == "ConsoleAndOutboxBackend"


def test_http_gateway_posts_with_basic_auth(settings, gateway):
    settings.SMS_BACKEND = "wallets.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_GATEWAY_USER = "kapchyk"
    settings.SMS_GATEWAY_PASSWORD = "s3cret"
    send_sms(phone="+996220000001", text="Төлөм коду 1234")
    assert gateway.received == [
        ("Basic a2FwY2h5azpzM2NyZXQ=", {"to": "+996220000001", "text": "Төлөм коду 1234"})
    ]
    assert SmsMessage.objects.get().status == "sent"


def test_http_gateway_failure_is_recorded_not_raised(settings):
    failing = Gateway(status=500)
    try:
        settings.SMS_BACKEND = "wallets.sms.HttpGatewayBackend"
        settings.SMS_GATEWAY_URL = failing.url
        send_sms(phone="+996220000001", text="x")
    finally:
        failing.close()
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/refused"
    send_sms(phone="+996220000001", text="y")
    assert list(SmsMessage.objects.order_by("id").values_list("text", "status")) == [
        ("x", "failed"),
        ("y", "failed"),
    ]


# --- Secrets stay out of the logs and out of the outbox once delivered ---


def test_the_console_backend_prints_no_text_in_production(settings, capsys, caplog):
    settings.DEBUG = False  # DJANGO_DEBUG=false (check --deploy refuses this backend there)
    settings.SMS_BACKEND = "wallets.sms.ConsoleAndOutboxBackend"
    with caplog.at_level(logging.DEBUG):
        send_sms(phone="+996700000001", text="Kapchyk code: 654321.", secrets=["654321"])
    out = capsys.readouterr()
    assert "654321" not in out.out + out.err + caplog.text
    assert "[SMS to +996700000001] (text not shown: DJANGO_DEBUG=false)" in out.out


def test_a_gateway_gets_the_code_and_the_outbox_keeps_it_masked(settings, gateway, caplog):
    settings.SMS_BACKEND = "wallets.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = gateway.url
    with caplog.at_level(logging.DEBUG):
        message = send_sms(
            phone="+996220000001", text="Kapchyk code: 654321. Do not tell.", secrets=["654321"]
        )
    assert gateway.received[0][1]["text"] == "Kapchyk code: 654321. Do not tell."
    stored = SmsMessage.objects.get()
    assert (stored.text, stored.masked, stored.status) == (
        "Kapchyk code: ***. Do not tell.",
        "",
        "sent",
    )
    assert message.text == stored.text
    assert "654321" not in caplog.text


def test_a_failed_gateway_send_does_not_keep_the_code_either(settings):
    settings.SMS_BACKEND = "wallets.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:9/refused"
    send_sms(phone="+996220000001", text="PIN 4821", secrets=["4821"])
    assert list(SmsMessage.objects.values_list("text", "status")) == [("PIN ***", "failed")]


def test_the_outbox_keeps_a_code_readable_only_for_its_ttl(settings):
    settings.SMS_OUTBOX_SECRET_TTL = 600
    send_sms(phone="+996555000001", text="Код 123456", secrets=["123456"])
    send_sms(phone="+996555000001", text="Оплачено 100,00 сом")  # nothing secret
    assert outbox_redact() == 0
    assert list(SmsMessage.objects.order_by("id").values_list("text", "masked")) == [
        ("Код 123456", "Код ***"),
        ("Оплачено 100,00 сом", ""),
    ]
    later = timezone.now() + datetime.timedelta(seconds=601)
    assert outbox_redact(now=later) == 1
    assert list(SmsMessage.objects.order_by("id").values_list("text", "masked")) == [
        ("Код ***", ""),
        ("Оплачено 100,00 сом", ""),
    ]
    assert outbox_redact(now=later) == 0


def test_every_send_masks_the_outbox_codes_past_their_ttl(settings):
    send_sms(phone="+996555000001", text="Код 123456", secrets=["123456"])
    SmsMessage.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))
    send_sms(phone="+996555000002", text="hello")
    assert SmsMessage.objects.get(phone="+996555000001").text == "Код ***"


def test_the_sms_redact_command_masks_them_too(settings):
    from django.core.management import call_command

    send_sms(phone="+996555000001", text="Код 123456", secrets=["123456"])
    settings.SMS_OUTBOX_SECRET_TTL = 0
    call_command("sms_redact")
    assert SmsMessage.objects.get().text == "Код ***"


def test_the_ussd_pin_is_a_marked_secret(settings, django_capture_on_commit_callbacks):
    settings.SMS_OUTBOX_SECRET_TTL = 0  # as a gateway would: masked at once
    wallet = make_wallet()
    with django_capture_on_commit_callbacks(execute=True):
        assert ussd_services.pin_issue(wallet=wallet)
    text = SmsMessage.objects.get(phone=wallet.number).text
    assert (
        text
        == "Kapchyk: Ваш пин-код для *900#: ***. Никому его не сообщайте. Сменить: *900#, 8, 3."
    )


def test_the_payment_code_is_a_marked_secret(settings, gateway, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "wallets.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = gateway.url
    wallet = make_wallet(balance=1_000_00)
    with django_capture_on_commit_callbacks(execute=True):
        payment = billing_services.payment_create(
            wallet=wallet,
            provider=ProviderFactory(),
            account="01234567890123",
            amount=100_00,
            token=billing_services.payment_token_new(wallet=wallet),
        )
    assert payment.status == "succeeded"
    assert payment.display_code in gateway.received[0][1]["text"]
    stored = SmsMessage.objects.get(phone=wallet.number).text
    assert payment.display_code not in stored and payment.code not in stored
    assert "Код платежа ***." in stored


class Redirecting:
    """An SMS gateway that answers every request with a redirect to `target`."""

    def __init__(self, target, status=302):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.send_response(status)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Recorder:
    """Whatever reaches it, by any method, with its Authorization header."""

    def __init__(self):
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def _record(self):
                seen.append((self.command, self.headers.get("Authorization")))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = _record

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/elsewhere"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_http_gateway_never_follows_a_redirect_with_its_credentials(settings, status):
    target = Recorder()
    redirect = Redirecting(target.url, status=status)
    try:
        settings.SMS_BACKEND = "wallets.sms.HttpGatewayBackend"
        settings.SMS_GATEWAY_URL = redirect.url
        settings.SMS_GATEWAY_USER = "kapchyk"
        settings.SMS_GATEWAY_PASSWORD = "s3cret"
        send_sms(phone="+996220000001", text="Код 123456")
    finally:
        redirect.close()
        target.close()
    assert target.seen == []
    assert SmsMessage.objects.get().status == "failed"


def test_http_gateway_refuses_a_private_address_when_not_allowed(settings, gateway):
    settings.SMS_BACKEND = "wallets.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = gateway.url
    settings.OUTBOUND_ALLOW_PRIVATE = False
    send_sms(phone="+996220000001", text="x")
    assert gateway.received == []
    assert SmsMessage.objects.get().status == "failed"
