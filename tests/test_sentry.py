"""Error reporting: the scrubber as a function, and real events sent by the SDK to a local
HTTP server standing for the DSN endpoint: none of the secrets is in what arrives."""

import gzip
import json
import os
import re
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from config.sentry import FILTERED, scrub_event, scrub_text

ROOT = Path(__file__).resolve().parent.parent
SECRETS = [
    "4826",  # a PIN
    "583920",  # an SMS code
    "771204",  # a code in the query string
    "hunter2",
    "tok-XYZ-secret",
    "4111",  # the card number, in any grouping
    "4111111111111111",
    "5500005555555559",
    "737",  # the CVV
    "a2FwY2h5azpzM2NyZXQ",  # Basic credentials
    "ussd-secret-77",
]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Капчык: код 583920. Никому его не сообщайте.",
            f"Капчык: код {FILTERED}. Никому его не сообщайте.",
        ),
        (
            "Kapchyk code: 583920. Do not tell it to anyone.",
            f"Kapchyk code: {FILTERED}. Do not tell it to anyone.",
        ),
        ("Капчык: коду 1234", f"Капчык: коду {FILTERED}"),
        ("Ваш пин-код 4826", f"Ваш пин-код {FILTERED}"),
        ("wrong PIN: 4826", f"wrong PIN: {FILTERED}"),
        ("card 4111 1111 1111 1111 ok", f"card {FILTERED} ok"),
        ("pan=4111-1111-1111-1111", f"pan={FILTERED}"),
        ("5500005555555559", FILTERED),
        ("cvv=737&cvc 123", f"cvv={FILTERED}&cvc {FILTERED}"),
        ("password=hunter2&next=/", f"password={FILTERED}&next=/"),
        ("пароль: qwerty", f"пароль: {FILTERED}"),
        ("Authorization: Basic a2FwY2h5azpzM2NyZXQ=", f"Authorization: Basic {FILTERED}"),
        ("token tok-XYZ", f"token {FILTERED}"),
        ("GET /pay/receipt/123456789012/ 200", f"GET /pay/receipt/{FILTERED}/ 200"),
        ("payment 42 settled, HTTP 500", "payment 42 settled, HTTP 500"),  # nothing secret
    ],
)
def test_scrub_text(text, expected):
    assert scrub_text(text) == expected


def test_scrub_event_everywhere():
    event = {
        "message": "PIN 4826 refused",
        "logentry": {
            "message": "code %s sent",
            "params": ["583920"],
            "formatted": "code 583920 sent",
        },
        "request": {
            "url": "http://testserver/pay/receipt/123456789012/",
            "method": "POST",
            "query_string": "code=771204&q=x",
            "cookies": {"sessionid": "abc"},
            "headers": {
                "Authorization": "Basic a2FwY2h5azpzM2NyZXQ=",
                "X-USSD-Secret": "s",
                "Accept": "*/*",
            },
            "data": {"pin": "4826", "password": "hunter2", "amount": "150", "account": "0012345"},
        },
        "extra": {"card_number": "4111111111111111", "note": "cvv 737", "count": 3},
        "breadcrumbs": {
            "values": [
                {"message": "SMS код 583920", "data": {"text": "код 583920", "status_code": 200}}
            ]
        },
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": "card 4111111111111111 declined",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "pay",
                                "lineno": 7,
                                "vars": {"pin": "'4826'", "otp_code": "'1'", "amount": "150"},
                            }
                        ]
                    },
                }
            ]
        },
        "user": {
            "id": "5",
            "username": "+996555123456",
            "email": "a@b.kg",
            "ip_address": "1.2.3.4",
        },
    }
    scrubbed = scrub_event(event, {})
    text = json.dumps(scrubbed, ensure_ascii=False)
    for secret in (
        "4826",
        "583920",
        "771204",
        "hunter2",
        "4111",
        "737",
        "a2FwY2h5",
        "sessionid",
        "+996555123456",
        "a@b.kg",
    ):
        assert secret not in text, secret
    # What helps find the bug stays.
    assert scrubbed["request"]["data"]["amount"] == "150"
    assert scrubbed["request"]["data"]["account"] == "0012345"
    assert scrubbed["request"]["headers"]["Accept"] == "*/*"
    assert scrubbed["request"]["query_string"] == f"code={FILTERED}&q=x"
    assert scrubbed["extra"]["count"] == 3
    assert scrubbed["breadcrumbs"]["values"][0]["data"]["status_code"] == 200
    frame = scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert (frame["function"], frame["lineno"], frame["vars"]["amount"]) == ("pay", 7, "150")
    assert scrubbed["user"] == {"id": "5"}
    assert scrubbed["logentry"] == {
        "message": f"code {FILTERED} sent",
        "formatted": f"code {FILTERED} sent",
    }
    assert event["request"]["data"]["pin"] == "4826"  # the original is left alone


class DsnEndpoint:
    """What Sentry's ingest would be: records every envelope posted to /api/<project>/."""

    def __init__(self):
        bodies = self.bodies = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":
                    import brotli

                    body = brotli.decompress(body)
                bodies.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def run_probe(env):
    return subprocess.run(
        [sys.executable, str(ROOT / "tests" / "sentry_probe.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def probe_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    env.update(DATABASE_URL="sqlite://:memory:", DJANGO_DEBUG="false", SECRET_KEY="x" * 50)
    env.update(ALLOWED_HOSTS="testserver", SECURE_SSL_REDIRECT="false")
    env.update(extra)
    return env


def test_events_sent_to_the_dsn_hold_no_secret():
    endpoint = DsnEndpoint()
    try:
        result = run_probe(probe_env(SENTRY_DSN=f"http://publickey@127.0.0.1:{endpoint.port}/1"))
    finally:
        endpoint.close()
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("sent")
    assert endpoint.bodies, "nothing reached the DSN endpoint"
    assert all(path.startswith("/api/1/") for path, _body in endpoint.bodies)
    received = b"\n".join(body for _path, body in endpoint.bodies).decode("utf-8", "replace")
    # The events are there: the failing request, its exception and the logged error...
    assert "ProbeError" in received
    assert "/fail/" in received
    assert "SMS to" in received and "failed" in received
    # ...and not one secret: as a value of its own, not by chance inside a random event id,
    # a timestamp or a commit hash (a 32-hex id holds «737» about once in a hundred runs).
    for secret in SECRETS:
        alone = rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])"
        assert not re.search(alone, received), secret
    assert FILTERED in received


def test_without_a_dsn_nothing_is_sent_and_the_sdk_not_even_imported():
    code = (
        "import os, sys, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings');"
        "django.setup(); from django.conf import settings;"
        "print(settings.SENTRY_DSN == '', 'sentry_sdk' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=probe_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["True", "False"]
