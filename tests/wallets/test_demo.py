"""`migrate` installs the schema and the real data only; `manage.py demo` adds the demo.

Real processes on a fresh SQLite file, as a production `migrate` and `make run` use them.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from providers import demo
from wallets.management.commands.demo import DEMO_BALANCE, DEMO_PHONE

ROOT = Path(__file__).resolve().parents[2]


def manage(database, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL=f"sqlite:///{database}")
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def counts(database):
    with sqlite3.connect(database) as db:

        def one(sql, *params):
            return db.execute(sql, params).fetchone()[0]

        return {
            "categories": one("SELECT count(*) FROM providers_category"),
            "providers": one("SELECT count(*) FROM providers_provider"),
            "provider accounts": one("SELECT count(*) FROM wallets_account WHERE kind='provider'"),
            "users": one("SELECT count(*) FROM wallets_user"),
            "wallets": one("SELECT count(*) FROM wallets_wallet"),
            "offers": one("SELECT count(*) FROM wallets_offer"),
            "staff groups": one("SELECT count(*) FROM auth_group"),
            "demo balance": one(
                "SELECT coalesce(sum(a.balance), 0) FROM wallets_wallet w"
                " JOIN wallets_account a ON a.id = w.account_id"
                " JOIN wallets_user u ON u.id = w.user_id WHERE u.phone = ?",
                DEMO_PHONE,
            ),
        }


def test_migrate_installs_no_demo_and_demo_adds_it_once(tmp_path):
    database = tmp_path / "fresh.sqlite3"

    manage(database, "migrate", "--noinput", "-v0")
    # The schema, the public offer v1 and the staff groups: nothing of the demo.
    assert counts(database) == {
        "categories": 0,
        "providers": 0,
        "provider accounts": 0,
        "users": 0,
        "wallets": 0,
        "offers": 1,
        "staff groups": 5,  # and «identification» (levels)
        "demo balance": 0,
    }

    out = manage(database, "demo")
    assert "kapchyk2026" in out
    assert "+996 555 765 432" in out  # the second wallet, to send a transfer to
    loaded = {
        "categories": len(demo.CATEGORIES),
        "providers": len(demo.PROVIDERS),
        "provider accounts": len(demo.PROVIDERS) + 1,  # and the café's takings (qr.demo)
        "users": 3,  # the demo wallet, the café's cashier, the friend to send to
        "wallets": 3,
        "offers": 1,
        "staff groups": 5,
        "demo balance": DEMO_BALANCE,
    }
    assert counts(database) == loaded

    # Idempotent: a second run (every `make run`) adds nothing and credits nothing again.
    manage(database, "demo")
    assert counts(database) == loaded

    # A database that has the demo migrates on cleanly and keeps it.
    assert "No migrations to apply" in manage(database, "migrate", "--noinput")
    assert counts(database) == loaded
