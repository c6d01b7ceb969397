"""Scale-out: two gunicorn servers (2 workers each) and two db_workers share one PostgreSQL.

The production settings (DJANGO_DEBUG=false) run in real processes against the test
database; a bounded mixed load (cabinet, payment flow with double clicks, histories,
anonymous pages, probes) goes through both servers, every signed-in user switching server
on every request, while the two task workers fold the ledger. Then: no 5xx, every
accepted payment exists exactly once with exactly one hold and one settlement, no wallet
below zero, balances add up, ledger.check() is clean, every task ran exactly once.
"""

import http.client
import os
import random
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from http.cookies import SimpleCookie
from importlib import import_module
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.tasks import task
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from billing.models import Payment
from tests.factories import ProviderFactory, make_wallet
from wallets import ledger
from wallets.models import Transfer

ROOT = Path(__file__).resolve().parent.parent
USERS = 12
ITERATIONS = 14  # payment attempts per user: ~12 requests each, ~2 000 requests in all
START_BALANCE = 1_000_00  # tyiyn: enough for some payments, not for all (refusals too)
LOAD_DEADLINE = 75.0  # seconds for the load itself; the test stops by itself after it
FOLDS = 24

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="several processes need PostgreSQL"
    ),
]


@task
def fold_ledger() -> int:
    """The background work of this test: fold the hot accounts' ledger entries."""
    time.sleep(0.05)  # long enough for the two workers to take turns
    return ledger.fold_entries()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    user = urllib.parse.quote(db["USER"] or "", safe="")
    password = urllib.parse.quote(db["PASSWORD"] or "", safe="")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Stack:
    """The processes, and their output files to show when something goes wrong."""

    def __init__(self, tmp_path, secret_key):
        self.tmp_path = tmp_path
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "false",
            "SECRET_KEY": secret_key,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "COOKIES_SECURE": "false",  # plain http on 127.0.0.1
            "DATABASE_URL": _database_url(),
            "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
            "SMS_BACKEND": "wallets.sms.OutboxBackend",
            "STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, name, *args):
        log = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append((name, proc))
        return proc

    def gunicorn(self, name, port):
        return self.start(
            name,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "60",
            "--no-control-socket",
        )

    def alive(self):
        return {name: proc.poll() is None for name, proc in self.procs}

    def output(self, name) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop(self):
        for _name, proc in self.procs:
            if proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, 15)
        deadline = time.monotonic() + 15
        for _name, proc in self.procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, 9)
                proc.wait(timeout=5)


class Browser:
    """One person's cookies; every request to the next server in turn (no stickiness)."""

    def __init__(self, ports, log, cookies=None):
        self.ports = ports
        self.turn = random.randrange(len(ports))
        self.cookies = dict(cookies or {})
        self.log = log

    def next_port(self):
        self.turn += 1
        return self.ports[self.turn % len(self.ports)]

    def request(self, method, path, form=None, port=None):
        port = port or self.next_port()
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        headers = {"Host": "127.0.0.1"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
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
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        self.log.append((port, method, path, response.status, response.headers["X-Request-ID"]))
        return response.status, response.headers, text


def _hidden_and_csrf(page: str) -> dict:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return {k: v.replace("&amp;", "&") for k, v in fields.items()}


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]


def _wait_until_up(ports, stack, deadline):
    for port in ports:
        while True:
            with suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                if conn.getresponse().status == 200:
                    break
            dead = [name for name, up in stack.alive().items() if not up]
            assert not dead, {name: stack.output(name) for name in dead}
            assert time.monotonic() < deadline, "the servers did not come up"
            time.sleep(0.2)


def _signed_in_cookie(user) -> dict:
    """Sign `user` in the way the login view does, by writing the session row."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return {"sessionid": store.session_key}


def _person(browser, provider, deadline, results):
    """A wallet owner: pay (sometimes with a double click), look at the histories."""
    accepted, refused = set(), 0
    for i in range(ITERATIONS):
        if time.monotonic() > deadline:
            break
        status, _h, _t = browser.request("GET", "/cabinet/")
        assert status == 200, status
        status, _h, page = browser.request("GET", f"/pay/{provider.slug}/")
        assert status == 200, status
        amount = random.choice(["90", "125,50", "150", "210"])
        form = {
            "csrfmiddlewaretoken": _csrf(page),
            "account": f"{random.randrange(10**13, 10**14)}",
            "amount": amount,
        }
        status, _h, confirm = browser.request("POST", f"/pay/{provider.slug}/", form)
        assert status == 200, status
        fields = _hidden_and_csrf(confirm)
        assert {"token", "account", "amount", "provider_id"} <= set(fields), confirm[:2000]
        fields["action"] = "pay"
        path = f"/pay/{provider.slug}/confirm/"
        if i % 4 == 1:
            # A double click: the same form to both servers at once.
            with ThreadPoolExecutor(2) as pool:
                twins = list(
                    pool.map(
                        lambda port: browser.request("POST", path, fields, port=port),
                        browser.ports,
                    )
                )
        else:
            twins = [browser.request("POST", path, fields)]
        statuses = {status for status, _h, _t in twins}
        assert len(statuses) == 1, statuses
        if statuses == {302}:
            locations = {h["Location"] for _s, h, _t in twins}
            assert len(locations) == 1, locations  # the twins land on the same payment
            location = locations.pop()
            code = re.fullmatch(r"/pay/receipt/(\d{12})/", location)[1]
            accepted.add(code)
            status, _h, _t = browser.request("GET", location)
            assert status == 200, status
        else:
            assert statuses == {200}, statuses  # not enough money: said on the page
            refused += 1
        if i % 2 == 0:
            for page_path in ("/cabinet/history/", "/cabinet/history/statement.csv"):
                status, _h, _t = browser.request("GET", page_path)
                assert status == 200, (page_path, status)
    results.append((accepted, refused))


def _stranger(browser, deadline):
    while time.monotonic() < deadline:
        for path, expected in (("/accounts/login/", 200), ("/healthz", 200), ("/cabinet/", 302)):
            status, _h, _t = browser.request("GET", path)
            assert status == expected, (path, status)
        time.sleep(0.05)


def test_two_servers_and_two_workers_share_one_database(tmp_path, settings):
    secret_key = secrets.token_urlsafe(50)
    provider = ProviderFactory(fee_fixed=5_00)
    wallets = [make_wallet(balance=START_BALANCE) for _ in range(USERS)]
    with override_settings(SECRET_KEY=secret_key):
        cookies = [_signed_in_cookie(w.user) for w in wallets]

    stack = Stack(tmp_path, secret_key)
    ports = [_free_port(), _free_port()]
    log: list = []
    try:
        stack.gunicorn("web-a", ports[0])
        stack.gunicorn("web-b", ports[1])
        for name in ("worker-1", "worker-2"):
            stack.start(
                name,
                "manage.py",
                "db_worker",
                "--worker-id",
                name,
                "--interval",
                "0.1",
                "--no-startup-delay",
            )
        _wait_until_up(ports, stack, time.monotonic() + 30)

        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        started = time.monotonic()
        deadline = started + LOAD_DEADLINE
        results: list = []
        errors: list = []

        def run(target, *args):
            try:
                target(*args)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [
            threading.Thread(
                target=run, args=(_person, Browser(ports, log, c), provider, deadline, results)
            )
            for c in cookies
        ]
        stop_strangers = started + 10
        threads += [
            threading.Thread(target=run, args=(_stranger, Browser(ports, log), stop_strangers))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        results_of_tasks = []
        for _ in range(FOLDS):  # background work while the payments go on
            results_of_tasks.append(fold_ledger.enqueue())
            time.sleep(0.1)
        for thread in threads:
            thread.join(timeout=max(1.0, deadline + 30 - time.monotonic()))
        elapsed = time.monotonic() - started
        assert not any(t.is_alive() for t in threads), "the load did not stop"
        assert not errors, errors[:3]

        # Let the workers finish the queue.
        while DBTaskResult.objects.exclude(status="SUCCESSFUL").exclude(status="FAILED").exists():
            assert time.monotonic() < deadline + 30, "tasks left in the queue"
            time.sleep(0.2)
        assert all(stack.alive().values()), stack.alive()
        for port in ports:
            status, _h, text = Browser([port], log).request("GET", "/healthz")
            assert (status, text) == (200, "ok")
    finally:
        stack.stop()

    # --- the load went through both servers, without a single 5xx ---
    statuses = Counter(status for *_rest, status, _rid in log)
    assert not [s for s in statuses if s >= 500], statuses
    per_server = Counter(port for port, *_rest in log)
    assert set(per_server) == set(ports)
    assert min(per_server.values()) > len(log) / 4, per_server
    assert len({rid for *_rest, rid in log}) == len(log)  # one request id per request
    assert 500 < len(log) < 5000, len(log)

    # --- every accepted payment exactly once; refusals moved nothing ---
    accepted = set().union(*(a for a, _r in results))
    refused = sum(r for _a, r in results)
    assert len(results) == USERS
    assert accepted and refused, (len(accepted), refused)
    payments = list(Payment.objects.filter(wallet__in=wallets))
    assert sorted(p.code for p in payments) == sorted(accepted)
    assert {p.status for p in payments} == {Payment.Status.SUCCEEDED}
    for kind in (Transfer.Kind.PAYMENT_HOLD, Transfer.Kind.PAYMENT_SETTLE):
        keys = Counter(
            Transfer.objects.filter(kind=kind, idempotency_key__startswith="payment:").values_list(
                "idempotency_key", flat=True
            )
        )
        step = "hold" if kind == Transfer.Kind.PAYMENT_HOLD else "settle"
        assert sorted(keys) == sorted(f"payment:{code}:{step}" for code in accepted)
        assert set(keys.values()) == {1}

    # --- no overdraft, and the balances add up ---
    spent = Counter()
    for p in payments:
        spent[p.wallet_id] += p.total
    for wallet in wallets:
        balance = ledger.balance_of(wallet.account)
        assert balance == START_BALANCE - spent[wallet.pk]
        assert balance >= 0
    assert ledger.check() == []
    assert ledger.total() == 0

    # --- the two workers shared the background work, each task ran exactly once ---
    # (each accepted payment's notification — its SMS — is a task of its own, committed with
    # the payment)
    sms = DBTaskResult.objects.filter(task_path="notifications.tasks.notification_deliver")
    assert sms.count() == len(accepted)
    tasks = list(DBTaskResult.objects.exclude(task_path="notifications.tasks.notification_deliver"))
    assert len(tasks) == FOLDS
    assert {t.status for t in tasks} == {"SUCCESSFUL"}, [t.traceback for t in tasks][:2]
    assert all(len(t.worker_ids) == 1 for t in tasks)
    assert {t.worker_ids[0] for t in tasks} == {"worker-1", "worker-2"}
    assert sum(t.return_value for t in tasks) > 0  # they did fold entries

    print(  # shown with -s: the figures of the run
        f"\nscale-out: {len(log)} requests in {elapsed:.1f}s ({len(log) / elapsed:.0f}/s) "
        f"over {dict(per_server)}; {len(accepted)} payments accepted, {refused} refused; "
        f"statuses {dict(statuses)}; tasks by worker "
        f"{dict(Counter(t.worker_ids[0] for t in tasks))}"
    )
