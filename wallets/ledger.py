"""The ledger: the only code that changes a balance.

Money moves only by `move()` (several legs as one unit) or `transfer()` (one leg), which
append Transfer rows (debit account, credit account, amount > 0, unique idempotency key)
and change balances in the same transaction:

- a wallet's balance is changed in place with a conditional UPDATE
  (``balance = balance - x WHERE balance >= x``), so it can never go below zero and
  concurrent debits serialise on the wallet's row only;
- a system account's (suspense, provider, fees, cash-in) change is appended as a
  LedgerEntry and folded into its balance later by `fold_entries()`. Thousands of
  payments to one provider therefore never queue on that provider's row. Within one
  unit, a system account's legs are netted first: money that only passes through
  suspense in one commit leaves no entry on it.

A wallet's limits (wallets.limits) are checked by that same UPDATE, against the limits and
the running day / month totals its own row carries, and the totals move with the balance:
a refused limit is LimitExceeded, nothing moved, and no extra statement when it fits.

Wallet rows are updated in ascending id order, so two units never deadlock. The statements
are written out (a handful, no ORM compiler on the hot path): a wallet-to-wallet transfer
is three statements, a bill payment's three legs four.
"""

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from . import limits
from .models import Account, LedgerEntry, Transfer


class LedgerError(Exception):
    pass


class InsufficientFunds(LedgerError):
    """The debited wallet does not hold the amount."""


class LimitExceeded(LedgerError):
    """A unit would break a limit of the wallet's level: `limit` is one of
    wallets.limits.NAMES, `left` what is left of it (tyiyn)."""

    def __init__(self, account_id: int, *, limit: str, left: int):
        super().__init__(f"account {account_id}: limit {limit} exceeded, {left} left")
        self.account_id, self.limit, self.left = account_id, limit, left


class IdempotencyConflict(LedgerError):
    """The idempotency key was already used for a different movement."""


SYSTEM_NAMES = {
    Account.Kind.CASHIN: "Cash-in desk",
    Account.Kind.FEES: "Fees",
    Account.Kind.SUSPENSE: "Suspense",
}

# System accounts never change once created: looked up once per process, not by code on
# every transfer. (Tests that roll their rows back call forget_system_accounts().)
_system: dict[str, Account] = {}


def system_account(kind: str) -> Account:
    """The single system account of a kind (cash-in, fees, suspense), created on first use."""
    account = _system.get(kind)
    if account is None:
        account, created = Account.objects.get_or_create(
            code=f"system:{kind}", defaults={"kind": kind, "name": SYSTEM_NAMES.get(kind, kind)}
        )
        if not created:  # a row this transaction made could still be rolled back
            _system[kind] = account
    return account


def forget_system_accounts() -> None:
    _system.clear()


def open_account(*, kind: str, code: str, name: str = "") -> Account:
    account, _ = Account.objects.get_or_create(code=code, defaults={"kind": kind, "name": name})
    return account


@dataclass(frozen=True)
class Leg:
    """One transfer of a unit: `amount` tyiyn from `debit` to `credit`, keyed by `key`."""

    debit: Account
    credit: Account
    amount: int
    key: str
    kind: str = Transfer.Kind.OTHER
    memo: str = ""
    # A credit that gives back a debit of the wallet moved at this moment (a refund): it
    # takes the amount off that moment's outgoing totals and is not incoming money.
    returns: datetime.datetime | None = None


def transfer(
    *,
    debit: Account,
    credit: Account,
    amount: int,
    key: str,
    kind: str = Transfer.Kind.OTHER,
    memo: str = "",
    created_by=None,
    returns=None,
    now=None,
) -> Transfer:
    """Move `amount` tyiyn from `debit` to `credit`, at most once per `key`.

    Guarantees: as `move()` with this one leg.
    """
    leg = Leg(debit, credit, amount, key, kind, memo, returns)
    return move([leg], created_by=created_by, now=now)[0]


_T, _A, _E = Transfer._meta.db_table, Account._meta.db_table, LedgerEntry._meta.db_table
_COLUMNS = "debit_id, credit_id, amount, kind, idempotency_key, memo, created_by_id, created_at"
# Table names come from the models, values are parameters: no injection possible.
_INSERT_SQL = f"INSERT INTO {_T} ({_COLUMNS}) VALUES {{rows}} ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key"  # noqa: S608, E501
# A wallet's one statement: the balance and the period totals move together, only if the
# balance holds the debits and every limit of the row holds (an empty limit always does; a
# total whose key is not the current period's counts as 0). SET reads the old row values.
_DAY = "CASE WHEN day_key = %s THEN out_day ELSE 0 END"
_OUT = "CASE WHEN month_key = %s THEN out_month ELSE 0 END"
_IN = "CASE WHEN month_key = %s THEN in_month ELSE 0 END"
_WALLET_SQL = (
    f"UPDATE {_A} SET balance = balance + %s, version = version + 1, out_day = {_DAY} + %s, day_key = %s, "  # noqa: S608
    f"out_month = {_OUT} + %s, in_month = {_IN} + %s, month_key = %s "
    "WHERE id = %s AND balance >= %s "
    "AND (%s = 0 OR limit_operation IS NULL OR %s <= limit_operation) "
    f"AND (%s <= 0 OR limit_out_day IS NULL OR {_DAY} + %s <= limit_out_day) "
    f"AND (%s <= 0 OR limit_out_month IS NULL OR {_OUT} + %s <= limit_out_month) "
    f"AND (%s = 0 OR limit_in_month IS NULL OR {_IN} + %s <= limit_in_month) "
    "AND (%s = 0 OR limit_balance IS NULL OR balance + %s <= limit_balance)"
)


def _wallet_params(pk, day, month, *, delta, debited, incoming, back_day, back_month):
    d = connection.ops.adapt_datefield_value(day)
    m = connection.ops.adapt_datefield_value(month)
    out_day, out_month = debited - back_day, debited - back_month
    return [
        delta, d, out_day, d, m, out_month, m, incoming, m,
        pk, debited,
        debited, debited,
        out_day, d, out_day,
        out_month, m, out_month,
        incoming, m, incoming,
        incoming, delta,
    ]  # fmt: skip


_ENTRY_SQL = f"INSERT INTO {_E} (account_id, delta, transfer_id) VALUES {{rows}}"  # noqa: S608


def move(legs: list[Leg], *, created_by=None, now=None) -> list[Transfer]:
    """Move every leg of `legs`, as one unit, at most once per key.

    Guarantees: the legs and their Transfer rows commit together or not at all (inside the
    caller's transaction when there is one, without a savepoint: the caller's transaction
    is the unit, and a refusal ends it); no wallet goes below zero (InsufficientFunds,
    nothing moved); no wallet's limits are broken (LimitExceeded, nothing moved; counted in
    the day and month of `now`, default the current time, in Asia/Bishkek); when every key
    was already used for the same movements, the first Transfers are returned and nothing
    moves; a key used for a different movement (or
    only some of the keys used) raises IdempotencyConflict.
    """
    if not legs:
        return []
    for leg in legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool) or leg.amount <= 0:
            raise ValueError("amount must be a positive integer number of tyiyn")
        if leg.debit.pk == leg.credit.pk:
            raise ValueError("debit and credit must differ")
    moment = now or timezone.now()
    now = connection.ops.adapt_datetimefield_value(moment)
    by = getattr(created_by, "pk", created_by)
    params = []
    for leg in legs:
        params += [leg.debit.pk, leg.credit.pk, leg.amount, leg.kind, leg.key, leg.memo[:255]]
        params += [by, now]
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(legs))
    # Inside the caller's transaction no savepoint: that transaction is the unit. On its
    # own (or directly under a test case's transaction) the unit is its own transaction.
    alone = all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)
    with transaction.atomic(savepoint=alone), connection.cursor() as cursor:
        # The unique keys are claimed first: a concurrent twin waits here and then finds
        # its keys taken, before it has touched any balance.
        cursor.execute(_INSERT_SQL.format(rows=rows), params)
        ids = {key: pk for pk, key in cursor.fetchall()}
        replayed = len(ids) < len(legs)
        day, month = limits.periods(moment)
        # account id → [net delta, debits, credits, incoming, given back today, this month]
        wallets: dict[int, list[int]] = {}
        hot: dict[int, list[int]] = {}  # account id → [net delta, transfer id of one leg]
        for leg in [] if replayed else legs:
            for account, delta in ((leg.debit, -leg.amount), (leg.credit, leg.amount)):
                if account.is_hot:
                    net = hot.setdefault(account.pk, [0, ids[leg.key]])
                    net[0] += delta
                    if delta > 0:
                        net[1] = ids[leg.key]
                    continue
                net = wallets.setdefault(account.pk, [0, 0, 0, 0, 0, 0])
                net[0] += delta
                if delta < 0:
                    net[1] -= delta
                    continue
                net[2] += delta
                if leg.returns is None:
                    net[3] += delta
                else:
                    returned = limits.periods(leg.returns)
                    net[4] += delta if returned[0] == day else 0
                    net[5] += delta if returned[1] == month else 0
        for pk in sorted(wallets):
            delta, debited, credited, incoming, back_day, back_month = wallets[pk]
            # The wallet must hold every debit of the unit, whatever comes back.
            cursor.execute(
                _WALLET_SQL,
                _wallet_params(
                    pk,
                    day,
                    month,
                    delta=delta,
                    debited=debited,
                    incoming=incoming,
                    back_day=back_day,
                    back_month=back_month,
                ),
            )
            if cursor.rowcount != 1:
                _refuse(pk, moment, debited, credited, incoming, back_day, back_month)
        entries = [(pk, net, tid) for pk, (net, tid) in sorted(hot.items()) if net]
        if entries:
            cursor.execute(
                _ENTRY_SQL.format(rows=", ".join(["(%s, %s, %s)"] * len(entries))),
                [value for entry in entries for value in entry],
            )
    if replayed:  # nothing was written: raised outside the block, which stays usable
        return _already_moved(legs, ids)
    return [
        Transfer(
            pk=ids[leg.key],
            debit_id=leg.debit.pk,
            credit_id=leg.credit.pk,
            amount=leg.amount,
            kind=leg.kind,
            idempotency_key=leg.key,
            memo=leg.memo[:255],
            created_by_id=by,
            created_at=moment,
        )
        for leg in legs
    ]


def _refuse(pk, moment, debited, credited, incoming, back_day, back_month):
    """Why a wallet's UPDATE matched no row: a limit, or else the balance. (Read after the
    refusal, only on this path; the unit is abandoned either way.)"""
    account = Account.objects.filter(pk=pk).first()
    found = account and limits.refused(
        account,
        moment=moment,
        debited=debited,
        credited=credited,
        incoming=incoming,
        back_day=back_day,
        back_month=back_month,
    )
    if found:
        raise LimitExceeded(pk, limit=found[0], left=found[1])
    raise InsufficientFunds(pk)


def _already_moved(legs, inserted) -> list[Transfer]:
    if inserted:  # some keys new, some used: not the same unit again
        raise IdempotencyConflict(next(leg.key for leg in legs if leg.key not in inserted))
    existing = Transfer.objects.in_bulk([leg.key for leg in legs], field_name="idempotency_key")
    for leg in legs:
        first = existing.get(leg.key)
        if first is None or (first.debit_id, first.credit_id, first.amount) != (
            leg.debit.pk,
            leg.credit.pk,
            leg.amount,
        ):
            raise IdempotencyConflict(leg.key)
    return [existing[leg.key] for leg in legs]


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


_BALANCE_SQL = f"SELECT a.balance + COALESCE((SELECT SUM(e.delta) FROM {_E} e WHERE e.account_id = a.id), 0) FROM {_A} a WHERE a.id = %s"  # noqa: S608, E501
_TOTAL_SQL = f"SELECT COALESCE((SELECT SUM(balance) FROM {_A}), 0) + COALESCE((SELECT SUM(delta) FROM {_E}), 0)"  # noqa: S608, E501


def history_changed(accounts) -> None:
    """An operation of `accounts` (ids, or a queryset of ids) changed without moving their
    balances (a pending payment settled): their `version` moves on, as every movement moves
    it, so that what pages rendered of their history is rendered anew. One UPDATE, inside
    the caller's transaction."""
    Account.objects.filter(pk__in=accounts).update(version=F("version") + 1)


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
