"""Limits that hold across processes: two gunicorn servers on one shared cache (Redis).

Real processes with production settings (DJANGO_DEBUG=false), over HTTP, every request of
a person going to the other server in turn: 5 wrong passwords on a number within 5 minutes
lock it in total (not 5 per worker), restarting a server keeps the lock, 5 wrong
authenticator codes lock the staff sign-in, and the per-address SMS cap counts the codes
sent by both. With a per-process cache (KAPCHYK_TEST_CACHE_URL=locmemcache://x) these
fail: that is what they are for.

The servers run on their own SQLite file (migrated here), so this runs on any test database.
Redis: KAPCHYK_TEST_CACHE_URL (default redis://127.0.0.1:6379/5), under a key prefix of
its own; skipped when Redis does not answer (CI, which starts it, fails instead).
"""

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
from contextlib import suppress
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from tests.staff import current_totp, wrong_totp

ROOT = Path(__file__).resolve().parent.parent.parent
CACHE_URL = os.environ.get("KAPCHYK_TEST_CACHE_URL", "redis://127.0.0.1:6379/5")
PASSWORD = "kapchyk2026"
WALLET, STAFF = "+996555710001", "+996555710002"
SMS_CAP_PER_IP_HOUR = 3

SETUP = f"""
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from wallets import services
from wallets.models import User
owner = User.objects.create_user({WALLET!r}, {PASSWORD!r}, phone_verified=True)
services.wallet_open(user=owner)
staff = User.objects.create_user({STAFF!r}, {PASSWORD!r}, phone_verified=True, is_staff=True)
secret = generate_totp_secret()
TOTP.activate(staff, secret)
print(secret)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ports() -> list[int]:
    base = os.environ.get("KAPCHYK_TEST_PORT")  # a port range of one's own, if told to use it
    return [int(base), int(base) + 1] if base else [_free_port(), _free_port()]


def _redis_answers(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class Server:
    """One gunicorn (one worker) with production settings, restartable on its port."""

    def __init__(self, name, port, env, tmp_path):
        self.name, self.port, self.env, self.tmp_path = name, port, env, tmp_path
        self.proc = None

    def start(self):
        log = open(self.tmp_path / f"{self.name}.log", "a")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}"]
            + ["--workers", "1", "--timeout", "60", "--no-control-socket"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            with suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                if conn.getresponse().status == 200:
                    return
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, f"{self.name} did not come up"
            time.sleep(0.2)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, 9)
                self.proc.wait(timeout=5)

    def restart(self):
        self.stop()
        self.start()

    def output(self) -> str:
        return (self.tmp_path / f"{self.name}.log").read_text(errors="replace")[-4000:]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if CACHE_URL.startswith("redis") and not _redis_answers(CACHE_URL):
        if os.environ.get("CI"):
            pytest.fail(f"Redis does not answer at {CACHE_URL}: CI must start it")
        pytest.skip(f"Redis does not answer at {CACHE_URL}")
    tmp_path = tmp_path_factory.mktemp("limits")
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "PYTEST", "CACHE_", "SMS_", "DATABASE_"))
        },
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "COOKIES_SECURE": "false",  # plain http on 127.0.0.1
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": CACHE_URL,
        "CACHE_KEY_PREFIX": f"test-limits-{secrets.token_hex(6)}",  # nobody else's keys
        "SMS_BACKEND": "wallets.sms.OutboxBackend",
        "SMS_CAP_PER_IP_HOUR": str(SMS_CAP_PER_IP_HOUR),
        "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    for args in (["migrate", "--noinput", "-v0"], ["shell", "-c", SETUP]):
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    servers = [Server(f"web{i}", port, env, tmp_path) for i, port in enumerate(_ports())]
    try:
        for server in servers:
            server.start()
        yield servers, done.stdout.split()[-1]
    finally:
        for server in servers:
            server.stop()


class Browser:
    """One person's cookies, over plain HTTP to whichever server is asked."""

    def __init__(self):
        self.cookies = {}

    def request(self, server, method, path, form=None):
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Host": "127.0.0.1"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            form.setdefault("csrfmiddlewaretoken", self.cookies.get("csrftoken", ""))
            body = urllib.parse.urlencode(form).encode()
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, text

    def csrf(self, server, path):
        status, page = self.request(server, "GET", path)
        assert status == 200, (status, page[:500])
        self.cookies["csrftoken"] = self.cookies.get("csrftoken") or ""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        return token[1] if token else ""


def page_text(page: str) -> str:
    return " ".join(re.sub(r"<[^>]*>", " ", page).split())


def sign_in(server, password) -> int:
    """The public sign-in of WALLET by a new browser: the number, then the password."""
    browser = Browser()
    token = browser.csrf(server, "/accounts/login/")
    status, page = browser.request(
        server, "POST", "/accounts/login/", {"csrfmiddlewaretoken": token, "phone": WALLET}
    )
    assert status == 302, (status, page_text(page)[:500])
    token = browser.csrf(server, "/accounts/login/password/")
    status, page = browser.request(
        server,
        "POST",
        "/accounts/login/password/",
        {"csrfmiddlewaretoken": token, "password": password},
    )
    if status == 429:
        assert "Слишком много попыток" in page_text(page)
    return status


def test_five_wrong_passwords_lock_the_number_on_every_server_and_after_a_restart(stack):
    (one, two), _secret = stack
    servers = [one, two, one, two, one]
    for server in servers:
        assert sign_in(server, "wrong-pass1") == 200  # «Incorrect password.»
    # Five in all, not five per process: locked on both, even with the right password.
    assert sign_in(two, PASSWORD) == 429
    assert sign_in(one, PASSWORD) == 429
    # A restarted server does not forget the lock.
    one.restart()
    two.restart()
    assert sign_in(one, PASSWORD) == 429
    assert sign_in(two, PASSWORD) == 429


def test_five_wrong_authenticator_codes_lock_the_staff_sign_in_across_servers(stack):
    (one, two), secret = stack
    browser = Browser()
    token = browser.csrf(one, "/admin/login/?next=/admin/")
    status, page = browser.request(
        one,
        "POST",
        "/admin/login/?next=/admin/",
        {"csrfmiddlewaretoken": token, "username": STAFF, "password": PASSWORD, "next": "/admin/"},
    )
    assert status == 302, page_text(page)[:500]
    for server in [two, one, two, one, two]:
        token = browser.csrf(server, "/accounts/2fa/authenticate/")
        status, page = browser.request(
            server,
            "POST",
            "/accounts/2fa/authenticate/",
            {"csrfmiddlewaretoken": token, "code": wrong_totp(secret)},
        )
        assert status == 200, (server.name, status, page_text(page)[:500])
    status, page = browser.request(
        one, "POST", "/accounts/2fa/authenticate/", {"code": current_totp(secret)}
    )
    assert status == 429, (status, page_text(page)[:500])
    assert "Слишком много попыток" in page_text(page)


def test_the_sms_cap_per_address_counts_the_codes_of_both_servers(stack):
    (one, two), _secret = stack
    outcomes = []
    for i in range(SMS_CAP_PER_IP_HOUR + 1):
        server = (one, two)[i % 2]
        browser = Browser()
        token = browser.csrf(server, "/accounts/login/")
        number = f"+99670071000{i}"
        status, _page = browser.request(
            server, "POST", "/accounts/login/", {"csrfmiddlewaretoken": token, "phone": number}
        )
        assert status == 302
        token = browser.csrf(server, "/accounts/signup/")
        status, page = browser.request(
            server,
            "POST",
            "/accounts/signup/",
            {
                "csrfmiddlewaretoken": token,
                "email": "aigul@example.kg",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "offer": "on",
            },
        )
        outcomes.append(status)
    assert outcomes == [302] * SMS_CAP_PER_IP_HOUR + [429]
    assert "Слишком много SMS-кодов запрошено из вашей сети" in page_text(page)
