"""`make serve` as a whole: the supervised stack (deploy/supervise.py: nginx, gunicorn, the
task worker, housekeeping) in real processes with production settings, on PostgreSQL.

- Slow clients: 50 connections that send half a request and hold it open tie up nothing;
  /healthz answers in under a second and a payment goes through (nginx buffers requests).
- A database outage: a PRIVATE PostgreSQL cluster (127.0.0.1:KAPCHYK_OUTAGE_PG_PORT, 55432 by
  default; never the shared one) is stopped for KAPCHYK_OUTAGE_SECONDS (60) while a payment
  through the reference OSMP provider is in flight, then started: within 60 s a new payment
  settles, the stuck one is settled or flagged, and every process is still the one started.

Ports: free ones, or from KAPCHYK_TEST_PORTS=FIRST-LAST when set.
"""

import glob
import http.client
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from contextlib import suppress
from http.cookies import SimpleCookie
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.test import override_settings

from billing.models import Payment
from tests.factories import ProviderFactory, make_wallet
from wallets import ledger

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the stack's processes share PostgreSQL"
    ),
]


def _need(binary: str, what: str) -> str:
    found = shutil.which(binary) or next(iter(sorted(glob.glob(binary), reverse=True)), None)
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing: CI must install it")
        pytest.skip(f"{what} is not installed")
    return found


_used_ports: set[int] = set()


def free_port() -> int:
    span = os.environ.get("KAPCHYK_TEST_PORTS", "")
    candidates = range(int(span.split("-")[0]), int(span.split("-")[1]) + 1) if span else [0]
    for port in candidates:
        if port in _used_ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            port = s.getsockname()[1]
        if port not in _used_ports:
            _used_ports.add(port)
            return port
    raise RuntimeError(f"no free port in {span}")


class Browser:
    """One person's cookies, over plain HTTP/1.1 to one port."""

    def __init__(self, port, cookies=None):
        self.port, self.cookies = port, dict(cookies or {})

    def request(self, method, path, form=None, timeout=30):
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Host": "127.0.0.1"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
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
        return response.status, response.headers, text

    def pay(self, slug, account, amount) -> str:
        """The web flow: form → «Далее» → «Оплатить»; the payment's code."""
        status, _h, page = self.request("GET", f"/pay/{slug}/")
        assert status == 200, (status, page[:500])
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        form = {"csrfmiddlewaretoken": csrf, "account": account, "amount": amount}
        status, _h, confirm = self.request("POST", f"/pay/{slug}/", form)
        assert status == 200, (status, confirm[:500])
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', confirm))
        fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
        assert "token" in fields, confirm[:2000]
        fields["action"] = "pay"
        status, headers, _t = self.request("POST", f"/pay/{slug}/confirm/", fields)
        assert status == 302, status
        return re.fullmatch(r"/pay/receipt/(\d{12})/", headers["Location"])[1]


def session_cookie(user, secret_key) -> dict:
    """Sign `user` in the way the login view does, by writing the session row."""
    with override_settings(SECRET_KEY=secret_key):
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
    return {"sessionid": store.session_key}


def database_url() -> str:
    db = connection.settings_dict
    user = urllib.parse.quote(db["USER"] or "", safe="")
    password = urllib.parse.quote(db["PASSWORD"] or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def base_env(database: str, secret_key: str) -> dict:
    return {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DJANGO_", "PYTEST"))
            and k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
        },
        "DATABASE_URL": database,
        "SECRET_KEY": secret_key,
        "SMS_BACKEND": "wallets.sms.OutboxBackend",
        "LOG_FORMAT": "text",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


class Serve:
    """`make serve` in its own session; stopped with SIGTERM (as a person's Ctrl-C)."""

    def __init__(self, tmp_path, env, *, port, web_port, every=2):
        self.log_path = tmp_path / "serve.log"
        self.port, self.web_port = port, web_port
        self.proc = subprocess.Popen(
            [
                "make",
                "--no-print-directory",
                "-o",
                ".venv/.installed",  # never reinstall the virtualenv from a test
                "serve",
                "SERVE_VENV=.venv",  # (where make serve has a virtualenv of its own)
                f"PORT={port}",
                f"WEB_PORT={web_port}",
                f"HOUSEKEEPING_EVERY={every}",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_up(self, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, self.output()[-4000:]
            with suppress(OSError):
                if Browser(self.port).request("GET", "/healthz", timeout=2)[0] == 200:
                    return
            assert time.monotonic() < deadline, self.output()[-4000:]
            time.sleep(0.3)

    def children_started(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for name in re.findall(r"^supervise: started (\S+) \(pid", self.output(), re.M):
            counts[name] = counts.get(name, 0) + 1
        return counts

    def stop(self):
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 15)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, 9)
            self.proc.wait(timeout=5)
        # The supervisor stopped its children (each in its own session) before exiting.
        for port in (self.port, self.web_port):
            with socket.socket() as s:
                s.settimeout(1)
                assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still served"


# --- slow clients ---


@pytest.mark.django_db(transaction=True)
def test_slow_clients_do_not_stall_the_site(tmp_path):
    _need("nginx", "nginx (apt-get install nginx)")
    secret_key = secrets.token_urlsafe(50)
    provider = ProviderFactory(fee_fixed=0)  # settled at once, in the request
    wallet = make_wallet(balance=1_000_00)
    cookies = session_cookie(wallet.user, secret_key)
    env = {**base_env(database_url(), secret_key), "WEB_CONCURRENCY": "2"}
    serve = Serve(tmp_path, env, port=free_port(), web_port=free_port())
    idle: list[socket.socket] = []
    try:
        serve.wait_until_up()
        status, headers, _t = Browser(serve.port).request("GET", "/healthz")
        assert (status, headers["Server"]) == (200, "nginx")
        for _ in range(50):  # half a request each, never finished
            s = socket.create_connection(("127.0.0.1", serve.port), timeout=5)
            s.sendall(b"POST /pay/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n")
            idle.append(s)
        time.sleep(1)
        for _ in range(5):
            started = time.monotonic()
            status, _h, text = Browser(serve.port).request("GET", "/healthz", timeout=5)
            assert (status, text) == (200, "ok")
            assert time.monotonic() - started < 1.0
        started = time.monotonic()
        code = Browser(serve.port, cookies).pay(provider.slug, "01234567890123", "150")
        assert time.monotonic() - started < 10
        payment = Payment.objects.get(code=code)
        assert payment.status == Payment.Status.SUCCEEDED
        assert ledger.balance_of(wallet.account) == 1_000_00 - 150_00
        assert all(s.fileno() != -1 for s in idle)
        assert serve.proc.poll() is None
    finally:
        for s in idle:
            s.close()
        serve.stop()
    assert serve.children_started() == {"web": 1, "worker": 1, "housekeeping": 1, "nginx": 1}


# --- a database outage ---


class PrivatePostgres:
    """A throw-away cluster of our own under build/, run as the postgres OS user when we are
    root. Only ever started and stopped through its own data directory."""

    def __init__(self, port: int):
        self.bin = Path(_need("/usr/lib/postgresql/*/bin/initdb", "PostgreSQL's initdb")).parent
        self.port = port
        self.dir = ROOT / "build" / f"pg-outage-{port}"
        self.data = self.dir / "data"
        self.as_user = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def run(self, *args, check=True, timeout=60):
        return subprocess.run(
            [*self.as_user, *args], check=check, timeout=timeout, capture_output=True, text=True
        )

    def create(self):
        if (self.data / "postmaster.pid").exists():  # a run of ours that died: its cluster
            self.stop(mode="immediate", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        if self.as_user:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            if self.run("test", "-w", str(self.dir), check=False).returncode != 0:
                # The checkout is not reachable by the postgres user (e.g. under /root).
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = Path(tempfile.gettempdir()) / f"kapchyk-pg-outage-{self.port}"
                self.data = self.dir / "data"
                if (self.data / "postmaster.pid").exists():
                    self.stop(mode="immediate", check=False)
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir.mkdir(parents=True)
                os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self.run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip
        self.start()
        self.run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                 "-U", "postgres", "kapchyk_outage")  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/kapchyk_outage"

    def start(self):
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                 "-l", str(self.dir / "server.log"), "-w", "-t", "30", "start")  # fmt: skip

    def stop(self, mode="fast", check=True):
        self.run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30",
                 "stop", check=check)  # fmt: skip

    def query(self, sql, params=()):
        import psycopg

        with psycopg.connect(self.url, connect_timeout=5) as db:
            return db.execute(sql, params).fetchall()

    def destroy(self):
        if (self.data / "postmaster.pid").exists():
            self.stop(mode="immediate", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def _manage(env, *args, timeout=180) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-4000:])
    return done.stdout


SIGN_IN = """
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from wallets.models import User
user = User.objects.get(phone="+996555123456")
store = import_module(settings.SESSION_ENGINE).SessionStore()
store[SESSION_KEY] = str(user.pk)
store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
store[HASH_SESSION_KEY] = user.get_session_auth_hash()
store.create()
print("SESSION", store.session_key)
"""


def test_the_stack_recovers_from_a_database_outage_by_itself(tmp_path):
    outage = float(os.environ.get("KAPCHYK_OUTAGE_SECONDS", "60"))
    pg = PrivatePostgres(int(os.environ.get("KAPCHYK_OUTAGE_PG_PORT", "55432")))
    secret_key = secrets.token_urlsafe(50)
    env = {
        **base_env(pg.url, secret_key),
        "DJANGO_DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "PAYMENT_LEASE": "5",  # a claim the database outage orphaned is due again soon
        "PAYMENT_RETRY_DELAY": "2",
        "PAYMENT_RETRY_MAX_DELAY": "5",
    }
    reference, serve = None, None
    try:
        pg.create()
        _manage(env, "migrate", "--noinput", "-v0")
        _manage(env, "demo")
        cookies = {
            "sessionid": re.search(r"SESSION (\S+)", _manage(env, "shell", "-c", SIGN_IN))[1]
        }
        ref_port = free_port()
        reference = subprocess.Popen(
            [sys.executable, "manage.py", "reference_provider", "--port", str(ref_port),
             "--attach", "hoster", "--fault", "slow"],  # every pay answered after 2 s
            cwd=ROOT, env=env, stdout=(tmp_path / "reference.log").open("w"),
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        serve = Serve(tmp_path, env, port=free_port(), web_port=free_port())
        serve.wait_until_up()
        browser = Browser(serve.port, cookies)

        def status(code):
            rows = pg.query("SELECT status FROM billing_payment WHERE code = %s", [code])
            return rows[0][0] if rows else None

        def wait_for(code, statuses, timeout):
            deadline = time.monotonic() + timeout
            while (found := status(code)) not in statuses:
                assert time.monotonic() < deadline, (code, found, serve.output()[-4000:])
                time.sleep(0.5)
            return found

        before = browser.pay("hoster", "0012345", "10")
        assert wait_for(before, {"succeeded"}, 30) == "succeeded"

        # A payment in flight (the worker waits for the slow provider) when the database
        # goes away: its answer cannot be recorded.
        stuck = browser.pay("hoster", "0012345", "11")
        time.sleep(1.0)
        pg.stop()
        down_until = time.monotonic() + outage
        while time.monotonic() < down_until:
            assert serve.proc.poll() is None, serve.output()[-4000:]
            time.sleep(1)
        pg.start()
        back = time.monotonic()

        def pay_when_possible():
            while True:
                try:
                    return browser.pay("hoster", "0012345", "12")
                except (AssertionError, OSError):
                    assert time.monotonic() < back + 30, serve.output()[-4000:]
                    time.sleep(1)

        after = pay_when_possible()
        assert wait_for(after, {"succeeded"}, max(1, back + 60 - time.monotonic())) == "succeeded"
        assert wait_for(
            stuck, {"succeeded", "needs_attention"}, max(1, back + 60 - time.monotonic())
        ) in {"succeeded", "needs_attention"}
        assert time.monotonic() - back < 60

        # Every process is alive, and still the one first started: they reconnected.
        assert serve.proc.poll() is None
        assert reference.poll() is None
        assert serve.children_started() == {"web": 1, "worker": 1, "housekeeping": 1} | (
            {"nginx": 1} if shutil.which("nginx") else {}
        ), serve.output()[-4000:]
        assert "database unavailable" in serve.output()  # the outage was seen, and survived
        assert Browser(serve.port).request("GET", "/healthz")[0] == 200
        assert Browser(serve.port).request("GET", "/healthz/ledger")[0] == 200
        # The money: each payment held once and settled once; the books balance.
        holds = pg.query(
            "SELECT count(*) FROM wallets_transfer WHERE idempotency_key LIKE 'payment:%%:hold'"
        )
        assert holds == [(3,)]
        settles = pg.query(
            "SELECT idempotency_key FROM wallets_transfer WHERE kind = 'payment_settle'"
        )
        assert len(settles) == len({k for (k,) in settles})
        _manage(env, "ledger_check")
    finally:
        if serve is not None:
            serve.stop()
        if reference is not None:
            with suppress(ProcessLookupError):
                os.killpg(reference.pid, 15)
            with suppress(subprocess.TimeoutExpired):
                reference.wait(timeout=10)
            if reference.poll() is None:
                os.killpg(reference.pid, 9)
        pg.destroy()
