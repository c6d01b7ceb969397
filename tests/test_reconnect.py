"""Long-running commands outlive a database outage: they reconnect with backoff, never exit.

Real failures, no mocks of the database: a PostgreSQL backend terminated under the
connection (as a restart does), and for the commands themselves, real processes whose
SQLite database cannot be opened (its directory is missing) until it appears.
"""

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest
from django.db import connection

from config.reconnect import FAILED, Backoff, attempt, run_every

ROOT = Path(__file__).resolve().parent.parent


def test_backoff_doubles_up_to_its_cap_and_resets():
    backoff = Backoff(first=0.5, cap=10)
    assert [backoff.next_delay() for _ in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]
    backoff.reset()
    assert backoff.next_delay() == 0.5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend")
def test_a_terminated_connection_is_reopened_after_a_pause(caplog):
    def backend_pid():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    def terminate(pid):
        other = connection.copy()
        try:
            with other.cursor() as cursor:  # what a server restart does to every connection
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            other.close()

    seen = []

    def step():
        pid = backend_pid()
        seen.append(pid)
        if len(seen) == 1:
            terminate(pid)  # the database goes away in the middle of a round
        return backend_pid()

    slept, backoff = [], Backoff(first=0.5, cap=10)
    with caplog.at_level(logging.WARNING, logger="kapchyk.reconnect"):
        assert attempt(step, what="test", backoff=backoff, sleep=slept.append) is FAILED
        assert slept == [0.5]
        second = attempt(step, what="test", backoff=backoff, sleep=slept.append)
    assert second == seen[1] != seen[0]  # a new connection, a new backend
    assert slept == [0.5]
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("test: database unavailable (OperationalError: ")
    assert messages[0].endswith("reconnecting in 0.5 s (failure 1 in a row)")
    assert messages[1] == "test: database back after 1 failure(s)"
    assert backoff.failures == 0


@pytest.mark.django_db
def test_run_every_keeps_going_through_database_errors():
    """Rounds that fail with a database error are retried after the backoff; other rounds
    after `every`; the loop itself never ends on a database error."""
    from django.db import OperationalError

    outcomes = iter([OperationalError("down"), OperationalError("down"), "ok", "ok"])
    slept = []

    def step():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def sleep(seconds):
        slept.append(seconds)
        if len(slept) == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_every(step, every=5, what="test", backoff=Backoff(first=1, cap=10), sleep=sleep)
    assert slept == [1, 2, 5, 5]


# --- the commands, as processes ---


def _env(database: Path) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "TASKS_BACKEND": "django_tasks_db.DatabaseBackend",
        "LOG_FORMAT": "text",
        "PYTHONUNBUFFERED": "1",
        "HOUSEKEEPING_LEDGER_CHECK": "0.1",
    }


def _wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what() if callable(what) else what
        time.sleep(0.2)


def test_worker_sweep_and_housekeeping_survive_a_database_they_cannot_open(tmp_path):
    ready = tmp_path / "ready" / "db.sqlite3"
    ready.parent.mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=ROOT,
        env=_env(ready),
        check=True,
        timeout=120,
    )
    database = tmp_path / "later" / "db.sqlite3"  # its directory does not exist yet
    # (housekeeping checks the ledger every round here)
    commands = {
        "worker": [
            "worker",
            "--no-reload",
            "--interval",
            "0.2",
            "--no-startup-delay",
            "--worker-id",
            "w1",
        ],
        "payments_retry": ["payments_retry", "--every", "0.2"],
        "housekeeping": ["housekeeping", "--every", "0.2"],
    }
    procs, logs = {}, {}
    try:
        for name, args in commands.items():
            logs[name] = tmp_path / f"{name}.log"
            procs[name] = subprocess.Popen(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=_env(database),
                stdout=logs[name].open("w"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def output(name):
            return logs[name].read_text(errors="replace")

        def query(sql):
            with sqlite3.connect(database, timeout=10) as db:
                return db.execute(sql).fetchall()

        def warned(where):
            for name, proc in procs.items():
                assert proc.poll() is None, (name, output(name)[-3000:])
            return all(f"{where(name)}: database unavailable" in output(name) for name in procs)

        # 1. At start the database cannot be opened: the commands wait for it.
        _wait_for(lambda: warned(lambda n: f"{n} (system checks)"), 60, "they wait at start")
        shutil.copytree(ready.parent, database.parent)
        _wait_for(
            lambda: query("SELECT ok FROM wallets_healthsignal WHERE name = 'ledger'") == [(1,)],
            30,
            "housekeeping checks the ledger once the database is there",
        )
        # Every command is past its start (a slow one may still sleep its backoff there: the
        # outage below would then find it in its system checks, not in its loop).
        _wait_for(
            lambda: (
                warned(lambda n: f"{n} (system checks)")
                and all(f"{n} (system checks): database back after" in output(n) for n in procs)
            ),
            60,
            lambda: (
                "every command starts once the database is there; not yet: "
                + ", ".join(
                    n for n in procs if f"{n} (system checks): database back" not in output(n)
                )
            ),
        )

        # 2. It goes away under the running loops, for a few seconds, and comes back.
        gone = tmp_path / "gone"
        database.parent.rename(gone)
        loop = {
            "worker": "worker w1",
            "payments_retry": "payments_retry",
            "housekeeping": "housekeeping",
        }
        _wait_for(
            lambda: warned(lambda n: loop[n]),
            60,
            lambda: (
                "every loop sees the outage; not yet: "
                + ", ".join(n for n in procs if f"{loop[n]}: database unavailable" not in output(n))
            ),
        )
        time.sleep(2)  # a few failed rounds more, with their backoff
        assert all(proc.poll() is None for proc in procs.values()), {
            n: output(n)[-2000:] for n in procs
        }
        gone.rename(database.parent)
        query("DELETE FROM wallets_healthsignal")
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from billing.tasks import payment_process; payment_process.enqueue(0)",
            ],
            cwd=ROOT,
            env=_env(database),
            check=True,
            timeout=60,
        )
        _wait_for(
            lambda: (
                query("SELECT status FROM django_tasks_database_dbtaskresult")
                not in ([], [("READY",)])
            ),
            30,
            "the worker runs a task once the database is back",
        )
        _wait_for(
            lambda: query("SELECT ok FROM wallets_healthsignal WHERE name = 'ledger'") == [(1,)],
            30,
            "housekeeping works again once the database is back",
        )
        _wait_for(
            lambda: "payments_retry: database back after" in output("payments_retry"),
            30,
            "the sweep reconnects",
        )
        for name, proc in procs.items():
            assert proc.poll() is None, (name, output(name)[-3000:])
            if name != "worker":  # (whose task, for a payment 0, failed: as it should)
                assert "Traceback" not in output(name), output(name)[-3000:]
    finally:
        for proc in procs.values():
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, 15)
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, 9)
                proc.wait(timeout=5)
