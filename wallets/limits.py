"""Identification levels and their e-money limits.

A wallet has a Level (per operation, outgoing per day, outgoing per month, incoming per
month, the most the balance may be; each optional). The ledger enforces them:

- the limits are copied onto the wallet's ledger Account (`limit_*` columns) whenever the
  wallet's level changes (level_set) or staff edit a level (level_sync), so `ledger.move`
  needs no lookup: the one conditional UPDATE that moves a wallet's balance also compares
  the row's own totals and limits, and refuses (LimitExceeded) with nothing moved;
- the running totals of the current day and month (Asia/Bishkek) are kept on that same
  row beside the balance (`out_day` for `day_key`, `out_month` and `in_month` for
  `month_key`) and updated by that UPDATE: a total whose key is not today's (this month's)
  counts as 0 and is restarted. Contention stays on the wallet's own row.
- a credit that gives a debit back (a refund: `Leg.returns`, the moment the debit moved)
  takes it off the outgoing totals of that moment's day and month when they are still the
  current ones, and is not incoming money: the totals stay exactly the sums of the
  movements of their period.

A level change takes the wallet's row lock too, so it lands between two operations, never
inside one. This module's Python side (`refused`, `usage`, `near`) reads the same rule
from an Account as loaded, for the quote and the pages; the ledger's UPDATE decides.
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from .audit import Origin, audit_record
from .models import Account, AuditLog, Level, LevelChange, User, Wallet

ZONE = ZoneInfo("Asia/Bishkek")
NAMES = ("operation", "out_day", "out_month", "in_month", "balance")
# The confirm page shows the headroom once an operation uses more than this share.
NEAR = 0.8


def periods(moment: datetime.datetime) -> tuple[datetime.date, datetime.date]:
    """The day and the first day of the month of `moment`, in Asia/Bishkek."""
    day = moment.astimezone(ZONE).date()
    return day, day.replace(day=1)


def limits_of(level: Level | None) -> dict[str, int | None]:
    """The Account columns that carry `level`'s limits (all empty without a level)."""
    return {f"limit_{name}": getattr(level, f"limit_{name}", None) for name in NAMES}


@dataclass(frozen=True)
class Usage:
    """What a wallet has used in the periods of a moment, and its balance."""

    out_day: int
    out_month: int
    in_month: int
    balance: int

    def used(self, name: str) -> int:
        return {"operation": 0}.get(name, getattr(self, name, 0))


def usage(account: Account, moment: datetime.datetime | None = None) -> Usage:
    day, month = periods(moment or timezone.now())
    this_month = account.month_key == month
    return Usage(
        out_day=account.out_day if account.day_key == day else 0,
        out_month=account.out_month if this_month else 0,
        in_month=account.in_month if this_month else 0,
        balance=account.balance,
    )


def refused(
    account: Account,
    *,
    moment: datetime.datetime | None = None,
    debited: int = 0,
    credited: int = 0,
    incoming: int = 0,
    back_day: int = 0,
    back_month: int = 0,
) -> tuple[str, int] | None:
    """The first limit of `account` that a unit would break, and what is left of it; None
    when it fits. `debited`: the unit's debits of the wallet; `credited`: its credits, of
    which `incoming` are new money (not refunds); `back_*`: refunds of debits of the current
    day / month. The same rule as the ledger's UPDATE (wallets.ledger._WALLET_SQL)."""
    now = usage(account, moment)
    if debited and account.limit_operation is not None and debited > account.limit_operation:
        return "operation", account.limit_operation
    for name, used, net in (
        ("out_day", now.out_day, debited - back_day),
        ("out_month", now.out_month, debited - back_month),
    ):
        limit = getattr(account, f"limit_{name}")
        if net > 0 and limit is not None and used + net > limit:
            return name, max(limit - used, 0)
    if incoming:
        if account.limit_in_month is not None and now.in_month + incoming > account.limit_in_month:
            return "in_month", max(account.limit_in_month - now.in_month, 0)
        after = now.balance + credited - debited
        if account.limit_balance is not None and after > account.limit_balance:
            return "balance", max(account.limit_balance - now.balance, 0)
    return None


@dataclass(frozen=True)
class Headroom:
    name: str
    limit: int
    left: int  # what is left of it after the operation (per operation: the limit itself)


def near(account: Account, *, out: int, moment=None) -> list[Headroom]:
    """The outgoing limits that an operation of `out` tyiyn takes above NEAR of."""
    now = usage(account, moment)
    found = []
    for name in ("operation", "out_day", "out_month"):
        limit = getattr(account, f"limit_{name}")
        if limit is None:
            continue
        used = now.used(name) + out
        if used > NEAR * limit:
            found.append(Headroom(name, limit, limit if name == "operation" else limit - used))
    return found


def left(account: Account, moment=None) -> dict[str, int | None]:
    """What is left of each limit now (None: no limit)."""
    now = usage(account, moment)
    result = {}
    for name in NAMES:
        limit = getattr(account, f"limit_{name}")
        result[name] = None if limit is None else max(limit - now.used(name), 0)
    return result


def base_level() -> Level | None:
    """The level every wallet starts at: the first by order."""
    return Level.objects.order_by("order").first()


def wallet_limits_start(*, wallet: Wallet) -> None:
    """Put a newly opened wallet (without a level) at the base level."""
    level = base_level()
    if wallet.level_id is not None or level is None:
        return
    Wallet.objects.filter(pk=wallet.pk, level__isnull=True).update(level=level)
    columns = limits_of(level)
    Account.objects.filter(pk=wallet.account_id).update(**columns)
    wallet.level = level
    for name, value in columns.items():
        setattr(wallet.account, name, value)


def level_set(
    *, wallet: Wallet, level: Level, evidence: str, changed_by: User | None, origin: Origin
) -> LevelChange | None:
    """Raise or lower `wallet` to `level`, on `evidence`; None when it is already there.

    Guarantees: the wallet's level, the limits on its ledger account, the LevelChange row
    and the audit record commit together. The account row is locked first (the row every
    movement of the wallet updates), so the change applies from the next operation on,
    never to one half-way.
    """
    with transaction.atomic(durable=True):
        Account.objects.select_for_update(no_key=True).filter(pk=wallet.account_id).first()
        old = Wallet.objects.filter(pk=wallet.pk).values_list("level", flat=True).get()
        if old == level.pk:
            return None
        Wallet.objects.filter(pk=wallet.pk).update(level=level)
        Account.objects.filter(pk=wallet.account_id).update(**limits_of(level))
        change = LevelChange.objects.create(
            wallet=wallet,
            old_level_id=old,
            new_level=level,
            evidence=evidence,
            changed_by=changed_by,
        )
        audit_record(
            actor=changed_by,
            action=AuditLog.Action.LEVEL_CHANGE,
            origin=origin,
            target=wallet,
            details={"from": old, "to": level.pk, "evidence": evidence, "change": change.pk},
        )
    wallet.level = level
    return change


def level_sync(*, level: Level) -> int:
    """Copy `level`'s (edited) limits onto every account of its wallets; return how many."""
    return Account.objects.filter(wallet__level=level).update(**limits_of(level))
