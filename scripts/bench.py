"""`make bench`: payment throughput on PostgreSQL, measured against pgbench in the same run.

1. payments/s through billing.services.payment_create (token → hold → internal settle →
   SMS outbox) with 4 worker threads, all payments to ONE provider;
2. the same, spread over 100 providers;
3. pgbench's built-in tpcb-like script with 4 clients on the same server.
Prints payments/s, TPS and the ratios (targets: payments/pgbench >= 0.6, one/100 >= 0.9).
A benchmark, not a test: nothing here asserts timings.

Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/kapchyk_bench),
BENCH_SECONDS (default 10 per phase), BENCH_THREADS (default 4).
"""

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kapchyk_bench")
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
WALLETS_PER_THREAD = 50

os.environ["DATABASE_URL"] = URL
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["SMS_BACKEND"] = "wallets.sms.OutboxBackend"

parts = urlparse(URL)
PG = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
PG += ["-U", parts.username or "postgres"]
DBNAME = parts.path.lstrip("/")
PGBENCH_DB = DBNAME + "_pgbench"


def psql(sql, db="postgres"):
    return subprocess.run(
        ["psql", *PG, "-d", db, "-tAc", sql], check=True, capture_output=True, text=True
    ).stdout.strip()


def recreate(db):
    psql(f'DROP DATABASE IF EXISTS "{db}"')
    psql(f'CREATE DATABASE "{db}"')


def main():
    recreate(DBNAME)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections, transaction
    from django.db.models import F

    call_command("migrate", verbosity=0)

    from billing.services import payment_create, payment_token_new
    from providers import demo
    from providers.models import Category, Provider
    from tests.factories import UserFactory
    from wallets import ledger, services
    from wallets.models import Account

    demo.load(Category, Provider, Account)  # the «Другие» category (not in the migrations)
    other = Category.objects.get(slug="other")
    providers = []
    for n in range(100):
        providers.append(
            Provider.objects.create(
                category=other,
                slug=f"bench-{n}",
                name_ru=f"Бенч {n}",
                name_ky=f"Бенч {n}",
                account_label_ru="Лицевой счёт",
                account_label_ky="Жеке эсеп",
                account_regex=r"\d{6}",
                min_amount=100,
                max_amount=10**9,
                fee_percent=1,
                position=1000 + n,
                account=ledger.open_account(
                    kind=Account.Kind.PROVIDER, code=f"provider:bench-{n}", name=f"bench {n}"
                ),
            )
        )
    wallets = []
    for _ in range(THREADS * WALLETS_PER_THREAD):
        wallet = services.wallet_open(user=UserFactory())
        services.cashin_create(wallet=wallet, amount=10**10, reason="bench", created_by=None)
        wallets.append(wallet)
    connections.close_all()

    def measure(name, operation, *, fold=False):
        """Run operation(thread, n) from THREADS threads for SECONDS; return operations/s."""
        barrier = threading.Barrier(THREADS + 1 + fold)
        counts = [0] * THREADS
        stop = threading.Event()

        def worker(index):
            barrier.wait()
            n = 0
            while not stop.is_set():
                operation(index, n)
                n += 1
            counts[index] = n
            connections.close_all()

        def folder():
            # The periodic fold of hot accounts runs during the measurement, as in production.
            barrier.wait()
            while not stop.wait(0.5):
                ledger.fold_entries()
            connections.close_all()

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        if fold:
            threads.append(threading.Thread(target=folder))
        for t in threads:
            t.start()
        barrier.wait()
        started = time.perf_counter()
        time.sleep(SECONDS)
        stop.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        rate = sum(counts) / elapsed
        print(f"{name}: {sum(counts)} in {elapsed:.1f} s = {rate:.0f}/s")
        return rate

    def pay(pick_provider):
        def operation(index, n):
            mine = wallets[index * WALLETS_PER_THREAD : (index + 1) * WALLETS_PER_THREAD]
            wallet = mine[n % len(mine)]
            payment_create(
                wallet=wallet,
                provider=pick_provider(index, n),
                account="123456",
                amount=150_00,
                token=payment_token_new(wallet=wallet),
            )

        return operation

    def orm_tpcb_sized(index, n):
        # What any Django service pays for a transaction of pgbench's size (5 statements and
        # a commit): the ceiling for payments/s through the ORM from Python threads.
        ids = account_ids[index * 10 : (index + 1) * 10]
        with transaction.atomic():
            for k in range(5):
                Account.objects.filter(pk=ids[(n + k) % 10]).update(balance=F("balance") + 0)

    one = measure("payments, one provider  ", pay(lambda i, n: providers[0]), fold=True)
    spread = measure(
        "payments, 100 providers ", pay(lambda i, n: providers[(i * 7919 + n) % 100]), fold=True
    )
    account_ids = [w.account_id for w in wallets[: THREADS * 10]]
    ceiling = measure("ORM, tpcb-sized txn     ", orm_tpcb_sized)
    ledger.fold_entries()
    problems = ledger.check()
    print(f"ledger_check: {'OK' if not problems else problems[:5]}")

    recreate(PGBENCH_DB)
    subprocess.run(
        ["pgbench", *PG, "-i", "-s", "10", "-q", PGBENCH_DB], check=True, capture_output=True
    )
    out = subprocess.run(
        ["pgbench", *PG, "-n", "-b", "tpcb-like", "-c", str(THREADS), "-j", str(THREADS)]
        + ["-T", str(int(SECONDS)), PGBENCH_DB],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    print(f"pgbench tpcb-like, {THREADS} clients, scale 10: {tps:.0f} TPS")
    print()
    print(f"payments/s (100 providers) / pgbench TPS = {spread / tps:.2f}  (target >= 0.6)")
    print(f"payments/s one provider / 100 providers  = {one / spread:.2f}  (target >= 0.9)")
    print(
        f"for scale: a tpcb-sized ORM transaction from {THREADS} Python threads / pgbench TPS"
        f" = {ceiling / tps:.2f} (the ceiling of any Django service here)"
    )
    psql(f'DROP DATABASE IF EXISTS "{PGBENCH_DB}"')
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
