"""The ledger: the only code that changes a balance.

Money moves only by `transfer()`, which appends a Transfer row (debit account, credit
account, amount > 0, unique idempotency key) and changes balances in the same
transaction:

- a wallet's balance is changed in place with a conditional UPDATE
  (``balance = balance - x WHERE balance >= x``), so it can never go below zero and
  concurrent debits serialise on the wallet's row only;
- a system account's (suspense, provider, fees, cash-in) change is appended as a
  LedgerEntry and folded into its balance later by `fold_entries()`. Thousands of
  payments to one provider therefore never queue on that provider's row.

Wallet rows are updated in ascending id order, so two transfers never deadlock.
"""

from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum

from .models import Account, LedgerEntry, Transfer


class LedgerError(Exception):
    pass


class InsufficientFunds(LedgerError):
    """The debited wallet does not hold the amount."""


class IdempotencyConflict(LedgerError):
    """The idempotency key was already used for a different movement."""


SYSTEM_NAMES = {
    Account.Kind.CASHIN: "Cash-in desk",
    Account.Kind.FEES: "Fees",
    Account.Kind.SUSPENSE: "Suspense",
}


def system_account(kind: str) -> Account:
    """The single system account of a kind (cash-in, fees, suspense), created on first use."""
    account, _ = Account.objects.get_or_create(
        code=f"system:{kind}", defaults={"kind": kind, "name": SYSTEM_NAMES.get(kind, kind)}
    )
    return account


def open_account(*, kind: str, code: str, name: str = "") -> Account:
    account, _ = Account.objects.get_or_create(code=code, defaults={"kind": kind, "name": name})
    return account


def transfer(
    *,
    debit: Account,
    credit: Account,
    amount: int,
    key: str,
    kind: str = Transfer.Kind.OTHER,
    memo: str = "",
    created_by=None,
) -> Transfer:
    """Move `amount` tyiyn from `debit` to `credit`, at most once per `key`.

    Guarantees: the movement and the Transfer row commit together or not at all; a
    wallet never goes below zero (InsufficientFunds, nothing moved); a key already used
    for the same movement returns the first Transfer and moves nothing; a key used for a
    different movement raises IdempotencyConflict. Runs inside the caller's transaction
    when there is one (a savepoint), so a service can join it with its own rows.
    """
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValueError("amount must be a positive integer number of tyiyn")
    if debit.pk == credit.pk:
        raise ValueError("debit and credit must differ")
    existing = Transfer.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return _same_or_conflict(existing, debit, credit, amount)
    try:
        with transaction.atomic():
            # The unique key is claimed first: a concurrent twin waits here and then fails,
            # before it has touched any balance.
            moved = Transfer.objects.create(
                debit_id=debit.pk,
                credit_id=credit.pk,
                amount=amount,
                kind=kind,
                idempotency_key=key,
                memo=memo[:255],
                created_by=created_by,
            )
            entries = []
            for account, delta in sorted(
                ((debit, -amount), (credit, amount)), key=lambda pair: pair[0].pk
            ):
                if account.is_hot:
                    entries.append(LedgerEntry(account_id=account.pk, delta=delta, transfer=moved))
                elif delta < 0:
                    updated = Account.objects.filter(pk=account.pk, balance__gte=-delta).update(
                        balance=F("balance") + delta
                    )
                    if not updated:
                        raise InsufficientFunds(account.code)
                else:
                    Account.objects.filter(pk=account.pk).update(balance=F("balance") + delta)
            if entries:
                LedgerEntry.objects.bulk_create(entries)
    except IntegrityError:
        existing = Transfer.objects.filter(idempotency_key=key).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, debit, credit, amount)
    return moved


def _same_or_conflict(existing, debit, credit, amount):
    if (existing.debit_id, existing.credit_id, existing.amount) != (debit.pk, credit.pk, amount):
        raise IdempotencyConflict(existing.idempotency_key)
    return existing


def fold_entries() -> int:
    """Fold committed LedgerEntry rows into their accounts' balances; return rows folded.

    Each account is folded in its own short transaction: the entries are locked (rows
    another folder holds are skipped), deleted, and their sum added to the balance, so
    a concurrent reader sees either the entries or the new balance, never both.
    """
    folded = 0
    account_ids = list(LedgerEntry.objects.values_list("account_id", flat=True).distinct())
    for account_id in account_ids:
        with transaction.atomic():
            rows = list(
                LedgerEntry.objects.select_for_update(skip_locked=True)
                .filter(account_id=account_id)
                .values_list("id", "delta")
            )
            if not rows:
                continue
            LedgerEntry.objects.filter(id__in=[r[0] for r in rows]).delete()
            Account.objects.filter(pk=account_id).update(
                balance=F("balance") + sum(r[1] for r in rows)
            )
            folded += len(rows)
    return folded


# Table names come from the models, values are parameters: no injection possible.
_A, _E = Account._meta.db_table, LedgerEntry._meta.db_table
_BALANCE_SQL = f"SELECT a.balance + COALESCE((SELECT SUM(e.delta) FROM {_E} e WHERE e.account_id = a.id), 0) FROM {_A} a WHERE a.id = %s"  # noqa: S608, E501
_TOTAL_SQL = f"SELECT COALESCE((SELECT SUM(balance) FROM {_A}), 0) + COALESCE((SELECT SUM(delta) FROM {_E}), 0)"  # noqa: S608, E501


def balance_of(account: Account) -> int:
    """The true balance: folded balance plus unfolded entries, read in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(_BALANCE_SQL, [account.pk])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def total() -> int:
    """Sum of every balance, read in one statement (one snapshot). Always 0."""
    with connection.cursor() as cursor:
        cursor.execute(_TOTAL_SQL)
        return int(cursor.fetchone()[0])


@dataclass
class Problem:
    account: str
    message: str

    def __str__(self):
        return f"{self.account}: {self.message}"


def check() -> list[Problem]:
    """Verify the invariants; return what is wrong (empty when the ledger is sound).

    The sum of all balances is 0; no wallet is below 0; each account's balance equals
    its credits minus its debits.
    """
    problems = []
    own_snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if own_snapshot:
            # One snapshot for every query below, while payments go on.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        credits = dict(
            Transfer.objects.values("credit").annotate(s=Sum("amount")).values_list("credit", "s")
        )
        debits = dict(
            Transfer.objects.values("debit").annotate(s=Sum("amount")).values_list("debit", "s")
        )
        pending = dict(
            LedgerEntry.objects.values("account")
            .annotate(s=Sum("delta"))
            .values_list("account", "s")
        )
        grand = 0
        for account in Account.objects.order_by("pk").iterator():
            actual = account.balance + pending.get(account.pk, 0)
            grand += actual
            expected = credits.get(account.pk, 0) - debits.get(account.pk, 0)
            if actual != expected:
                problems.append(
                    Problem(account.code, f"balance {actual} != credits - debits {expected}")
                )
            if account.kind == Account.Kind.WALLET and actual < 0:
                problems.append(Problem(account.code, f"wallet balance {actual} is negative"))
        if grand != 0:
            problems.append(Problem("*", f"sum of all balances is {grand}, not 0"))
    return problems
