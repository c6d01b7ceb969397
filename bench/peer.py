"""`python -m bench.peer KIND...`: transfers/s of a peer of wallets.ledger.transfer.

Kinds (each prints one JSON line {"kind": ..., "rate": ...}):
- plain: a plain Django transfer, guarded: select_for_update of both rows, the overdraft
  refused, two UPDATEs, one INSERT (bench.plain, its own database);
- hordak_guarded: django-hordak's Account.transfer_to with what a wallet needs on top: the
  payer's account row locked with select_for_update and the transfer refused when its
  balance is short;
- hordak: hordak's transfer_to alone (no overdraft check).
The hordak kinds run in the benchmark's own venv (build/bench-hordak-venv). The kinds given
are measured one after the other, each from BENCH_PROCS processes. Environment:
PEER_DATABASE_URL (created by the caller, empty), BENCH_PROCS, BENCH_SECONDS, BENCH_WARMUP;
PEER_ROUNDS=1: print READY once set up, then measure one kind per «RUN <kind> <round>» line
on stdin until «END» (make bench takes its figures in rounds, in turn with its own).
"""

import json
import os
import sys

ACCOUNTS_PER_PROC = 20
FUNDS = 10**7
CURRENCY = "EUR"  # see bench.peer_settings


ROUND = [0]  # the round being measured (PEER_ROUNDS): part of the plain transfer's keys


class Refused(Exception):
    """The payer's balance is short: nothing moved."""


def _plain(procs):
    from django.db import transaction
    from django.db.models import F

    from bench.plain.models import Account, Transfer

    ids = [
        a.pk
        for a in Account.objects.bulk_create(
            Account(balance=FUNDS * 100) for _ in range(procs * ACCOUNTS_PER_PROC)
        )
    ]
    amount = 100

    def make_op(index):
        mine = ids[index * ACCOUNTS_PER_PROC : (index + 1) * ACCOUNTS_PER_PROC]

        def op(n):
            payer, payee = mine[n % len(mine)], mine[(n + 1) % len(mine)]
            with transaction.atomic():
                rows = {
                    row.pk: row
                    for row in Account.objects.select_for_update()
                    .filter(pk__in=(payer, payee))
                    .order_by("pk")
                }
                if rows[payer].balance < amount:
                    raise Refused(payer)
                Account.objects.filter(pk=payer).update(balance=F("balance") - amount)
                Account.objects.filter(pk=payee).update(balance=F("balance") + amount)
                Transfer.objects.create(
                    debit_id=payer,
                    credit_id=payee,
                    amount=amount,
                    key=f"peer:{ROUND[0]}:{index}:{n}",
                )

        return op

    return make_op


def _hordak(procs, *, guarded):
    from decimal import Decimal

    from django.db import transaction
    from djmoney.money import Money
    from hordak.models import Account

    amount = Money(Decimal("1.00"), CURRENCY)
    cash = Account.objects.create(name="cash", type="AS", currencies=[CURRENCY])
    accounts = []
    for n in range(procs * ACCOUNTS_PER_PROC):
        # Asset accounts: A.transfer_to(B) decreases A and increases B, as a wallet's would.
        account = Account.objects.create(name=f"wallet {n}", type="AS", currencies=[CURRENCY])
        cash.transfer_to(account, Money(FUNDS, CURRENCY))
        accounts.append(account)

    def make_op(index):
        mine = accounts[index * ACCOUNTS_PER_PROC : (index + 1) * ACCOUNTS_PER_PROC]

        def op_guarded(n):
            payee = mine[(n + 1) % len(mine)]
            with transaction.atomic():
                payer = Account.objects.select_for_update().get(pk=mine[n % len(mine)].pk)
                if payer.get_simple_balance() < amount:
                    raise Refused(payer.pk)
                payer.transfer_to(payee, amount)

        def op_bare(n):
            mine[n % len(mine)].transfer_to(mine[(n + 1) % len(mine)], amount)

        return op_guarded if guarded else op_bare

    return make_op


def main(kinds):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peer_settings")
    os.environ["PEER_APP"] = "hordak" if kinds[0].startswith("hordak") else "plain"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from bench.timing import measure

    procs = int(os.environ.get("BENCH_PROCS", "2"))
    seconds = float(os.environ.get("BENCH_SECONDS", "10"))
    warmup = float(os.environ.get("BENCH_WARMUP", "1"))
    call_command("migrate", run_syncdb=True, verbosity=0)
    makers = {}
    for kind in kinds:
        if kind == "plain":
            makers[kind] = _plain(procs)
        elif kind in ("hordak", "hordak_guarded"):
            makers[kind] = _hordak(procs, guarded=kind == "hordak_guarded")
        else:
            raise SystemExit(f"unknown peer {kind!r}")
    connections.close_all()
    if not os.environ.get("PEER_ROUNDS"):
        for kind, make_op in makers.items():
            rate = measure(make_op, procs=procs, seconds=seconds, warmup=warmup)
            print(json.dumps({"kind": kind, "rate": rate}), flush=True)
        return 0
    # make bench takes its figures in rounds, in turn with its own: say READY once set
    # up, then measure one kind on each «RUN <kind> <round>» until «END».
    print("READY", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "END":
            break
        kind, ROUND[0] = words[1], int(words[2])
        rate = measure(makers[kind], procs=procs, seconds=seconds, warmup=warmup)
        print(json.dumps({"kind": kind, "rate": rate}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["plain"]))
