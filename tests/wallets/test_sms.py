import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from wallets.models import SmsMessage
from wallets.sms import send_sms

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
