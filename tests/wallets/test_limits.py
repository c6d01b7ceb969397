"""Identification levels and their limits, enforced by ledger.move: every limit at its
boundary, per period (days and months in Asia/Bishkek), refunds giving the limit back, and a
level change applying from the next operation."""

import datetime
import itertools

import pytest
from django.db.models import Sum

from tests.factories import UserFactory, make_wallet
from wallets import ledger, limits, services
from wallets.audit import COMMAND
from wallets.models import Account, AuditLog, Level, LevelChange, Transfer

pytestmark = pytest.mark.django_db

SOM = 100
_keys = itertools.count()


def at(*args):
    """A moment in Bishkek time."""
    return datetime.datetime(*args, tzinfo=limits.ZONE)


NOON = at(2026, 12, 15, 12, 0)


def level(order=10, **limits_):
    return Level.objects.create(
        order=order, name_ru=f"Уровень {order}", name_ky=f"Деңгээл {order}", **limits_
    )


def wallet_at(lvl, balance=0):
    return make_wallet(balance=balance, level=lvl)


def spend(wallet, amount, now=NOON):
    """The wallet pays `amount` into suspense (a payment's hold)."""
    return ledger.transfer(
        debit=wallet.account,
        credit=ledger.system_account(Account.Kind.SUSPENSE),
        amount=amount,
        key=f"spend:{next(_keys)}",
        now=now,
    )


def give_back(wallet, hold: Transfer, now=NOON):
    """The refund of `hold`: it gives the limit back."""
    return ledger.transfer(
        debit=ledger.system_account(Account.Kind.SUSPENSE),
        credit=wallet.account,
        amount=hold.amount,
        key=f"refund:{hold.pk}",
        returns=hold.created_at,
        now=now,
    )


def receive(wallet, amount, now=NOON):
    return ledger.transfer(
        debit=ledger.system_account(Account.Kind.CASHIN),
        credit=wallet.account,
        amount=amount,
        key=f"in:{next(_keys)}",
        now=now,
    )


def row(wallet):
    wallet.account.refresh_from_db()
    return wallet.account


def refused(call, *args, **kwargs) -> ledger.LimitExceeded:
    before = Transfer.objects.count()
    with pytest.raises(ledger.LimitExceeded) as caught:
        call(*args, **kwargs)
    assert Transfer.objects.count() == before  # nothing moved
    return caught.value


# --- levels as data ---


def test_three_levels_exist_and_a_new_wallet_starts_at_the_base_one():
    names = list(Level.objects.values_list("name_ru", flat=True))
    assert names == ["Базовый", "Упрощённый", "Полный"]
    base = Level.objects.get(name_ru="Базовый")
    assert (base.limit_balance, base.limit_operation, base.limit_out_month) == (
        30_000 * SOM,
        30_000 * SOM,
        200_000 * SOM,
    )
    wallet = services.wallet_open(user=UserFactory())
    assert wallet.level == base
    account = row(wallet)
    assert account.limit_balance == 30_000 * SOM
    assert account.limit_operation == 30_000 * SOM
    assert account.limit_out_month == 200_000 * SOM
    assert account.limit_out_day is None and account.limit_in_month is None
    # The base level holds: 30 000 som fit, one tyiyn more does not.
    services.cashin_create(wallet=wallet, amount=30_000 * SOM, reason="desk", created_by=None)
    error = refused(receive, wallet, 1)
    assert (error.limit, error.left) == ("balance", 0)


def test_the_identification_group_may_set_levels():
    from django.contrib.auth.models import Group

    perms = Group.objects.get(name="identification").permissions.values_list("codename", flat=True)
    assert set(perms) == {"set_level", "view_wallet", "view_level", "view_levelchange"}


# --- every limit at its boundary ---


def test_one_operation_exactly_at_the_limit_passes_and_one_tyiyn_over_is_refused():
    wallet = wallet_at(level(limit_operation=1_000_00), balance=10_000_00)
    spend(wallet, 1_000_00)
    error = refused(spend, wallet, 1_000_01)
    assert (error.limit, error.left) == ("operation", 1_000_00)
    assert row(wallet).balance == 9_000_00


@pytest.mark.parametrize("name", ["out_day", "out_month"])
def test_outgoing_exactly_at_the_limit_passes_and_one_tyiyn_over_is_refused(name):
    wallet = wallet_at(level(**{f"limit_{name}": 500_00}), balance=10_000_00)
    spend(wallet, 300_00)
    spend(wallet, 200_00)  # exactly at the limit
    error = refused(spend, wallet, 1)
    assert (error.limit, error.left) == (name, 0)
    account = row(wallet)
    assert (account.balance, account.out_day, account.out_month) == (9_500_00, 500_00, 500_00)
    fresh = wallet_at(Level.objects.get(order=10), balance=10_000_00)
    spend(fresh, 499_99)
    error = refused(spend, fresh, 2)
    assert (error.limit, error.left) == (name, 1)


def test_incoming_per_month_exactly_at_the_limit_passes_and_one_tyiyn_over_is_refused():
    wallet = wallet_at(level(limit_in_month=1_000_00))
    receive(wallet, 600_00)
    receive(wallet, 400_00)
    error = refused(receive, wallet, 1)
    assert (error.limit, error.left) == ("in_month", 0)
    spend(wallet, 500_00)  # spending does not give incoming room back
    error = refused(receive, wallet, 1)
    assert error.limit == "in_month"
    assert row(wallet).in_month == 1_000_00


def test_the_balance_exactly_at_the_limit_passes_and_one_tyiyn_over_is_refused():
    wallet = wallet_at(level(limit_balance=1_000_00))
    receive(wallet, 999_99)
    receive(wallet, 1)
    error = refused(receive, wallet, 1)
    assert (error.limit, error.left) == ("balance", 0)
    spend(wallet, 100_00)
    receive(wallet, 100_00)  # room again once spent
    assert row(wallet).balance == 1_000_00


def test_no_level_means_no_limits():
    wallet = make_wallet(balance=10_000_000_00)
    spend(wallet, 10_000_000_00)
    assert row(wallet).out_month == 10_000_000_00


# --- periods in Asia/Bishkek ---


def test_the_day_starts_at_midnight_in_bishkek_not_in_utc():
    wallet = wallet_at(level(limit_out_day=100_00), balance=10_000_00)
    spend(wallet, 100_00, now=at(2026, 12, 15, 23, 59, 59))
    assert refused(spend, wallet, 1, now=at(2026, 12, 15, 23, 59, 59, 999999)).limit == "out_day"
    # 18:00 UTC is midnight in Bishkek (UTC+6): a new day.
    midnight = datetime.datetime(2026, 12, 15, 18, 0, tzinfo=datetime.UTC)
    spend(wallet, 100_00, now=midnight)
    assert refused(spend, wallet, 1, now=midnight).left == 0
    account = row(wallet)
    assert (account.day_key, account.out_day) == (datetime.date(2026, 12, 16), 100_00)
    assert account.out_month == 200_00  # the same month


def test_the_month_starts_on_the_first_in_bishkek():
    wallet = wallet_at(level(limit_out_month=100_00, limit_in_month=100_00), balance=1_000_00)
    spend(wallet, 100_00, now=at(2026, 1, 31, 23, 59, 59))
    refused(spend, wallet, 1, now=at(2026, 1, 31, 23, 59, 59))
    spend(wallet, 100_00, now=at(2026, 2, 1, 0, 0))
    account = row(wallet)
    assert (account.month_key, account.out_month) == (datetime.date(2026, 2, 1), 100_00)
    assert account.in_month == 0  # the February count: the cash-in was in December
    receive(wallet, 100_00, now=at(2026, 2, 1, 0, 0))
    assert refused(receive, wallet, 1, now=at(2026, 2, 28, 23, 59)).limit == "in_month"
    receive(wallet, 100_00, now=at(2026, 3, 1, 0, 0))


def test_the_python_rule_agrees_with_the_ledger_across_periods():
    wallet = wallet_at(level(limit_out_day=100_00, limit_out_month=150_00), balance=1_000_00)
    spend(wallet, 100_00, now=at(2026, 3, 31, 12, 0))
    account = row(wallet)
    assert limits.refused(account, moment=at(2026, 3, 31, 13, 0), debited=1) == ("out_day", 0)
    assert limits.refused(account, moment=at(2026, 4, 1, 0, 0), debited=100_00) is None
    tomorrow = at(2026, 4, 1, 0, 0) - datetime.timedelta(microseconds=1)
    assert limits.refused(account, moment=tomorrow, debited=1) == ("out_day", 0)
    assert limits.left(account, at(2026, 4, 1, 9, 0)) == {
        "operation": None,
        "out_day": 100_00,
        "out_month": 150_00,
        "in_month": None,
        "balance": None,
    }


# --- refunds give the limit back ---


def test_a_refund_gives_the_outgoing_limits_back_and_is_not_incoming():
    wallet = wallet_at(
        level(limit_out_day=100_00, limit_out_month=100_00, limit_in_month=1), balance=0
    )
    Account.objects.filter(pk=wallet.account_id).update(limit_in_month=None)
    receive(wallet, 200_00)
    Account.objects.filter(pk=wallet.account_id).update(limit_in_month=1)
    hold = spend(wallet, 100_00)
    give_back(wallet, hold)  # not refused by the incoming limit: it is no new money
    account = row(wallet)
    assert (account.out_day, account.out_month, account.balance) == (0, 0, 200_00)
    spend(wallet, 100_00)
    assert refused(spend, wallet, 1).limit == "out_day"


def test_a_refund_after_midnight_gives_back_the_month_but_not_the_new_day():
    wallet = wallet_at(level(limit_out_day=100_00, limit_out_month=300_00), balance=1_000_00)
    hold = spend(wallet, 100_00, now=at(2026, 12, 15, 23, 59))
    morning = at(2026, 12, 16, 0, 1)
    spend(wallet, 60_00, now=morning)
    give_back(wallet, hold, now=morning)
    account = row(wallet)
    assert (account.out_day, account.out_month) == (60_00, 60_00)
    spend(wallet, 40_00, now=morning)
    assert refused(spend, wallet, 1, now=morning).limit == "out_day"


def test_a_refund_in_the_next_month_changes_nothing_of_the_new_month():
    wallet = wallet_at(level(limit_out_month=100_00), balance=1_000_00)
    hold = spend(wallet, 100_00, now=at(2026, 1, 31, 23, 0))
    give_back(wallet, hold, now=at(2026, 2, 1, 1, 0))
    assert row(wallet).out_month == 0
    spend(wallet, 100_00, now=at(2026, 2, 1, 2, 0))
    assert refused(spend, wallet, 1, now=at(2026, 2, 1, 2, 0)).limit == "out_month"


def test_a_refund_is_never_refused_even_above_the_balance_limit():
    wallet = wallet_at(level(limit_balance=100_00), balance=100_00)
    hold = spend(wallet, 50_00)
    receive(wallet, 50_00)
    give_back(wallet, hold)
    assert row(wallet).balance == 150_00
    assert refused(receive, wallet, 1).left == 0


def test_a_hold_and_its_refund_in_one_unit_leave_the_totals_as_they_were():
    wallet = wallet_at(level(limit_out_day=100_00), balance=1_000_00)
    suspense = ledger.system_account(Account.Kind.SUSPENSE)
    ledger.move(
        [
            ledger.Leg(wallet.account, suspense, 100_00, "unit:hold"),
            ledger.Leg(suspense, wallet.account, 100_00, "unit:refund", returns=NOON),
        ],
        now=NOON,
    )
    assert row(wallet).out_day == 0
    spend(wallet, 100_00)


# --- level changes ---


def test_a_level_change_applies_from_the_next_operation_and_is_recorded():
    small, large = level(10, limit_operation=100_00), level(20, limit_operation=1_000_00)
    wallet = wallet_at(small, balance=10_000_00)
    refused(spend, wallet, 100_01)
    staff = UserFactory(is_staff=True)
    change = limits.level_set(
        wallet=wallet, level=large, evidence="паспорт ID123456", changed_by=staff, origin=COMMAND
    )
    spend(wallet, 100_01)
    assert refused(spend, wallet, 1_000_01).left == 1_000_00
    assert (change.old_level, change.new_level, change.changed_by) == (small, large, staff)
    audit = AuditLog.objects.get(action="level_change")
    assert (audit.actor, audit.object_id) == (staff, str(wallet.pk))
    assert audit.details["evidence"] == "паспорт ID123456"
    # Lowered again: the next operation meets the small limit.
    limits.level_set(
        wallet=wallet, level=small, evidence="ошибка", changed_by=staff, origin=COMMAND
    )
    refused(spend, wallet, 100_01)
    assert LevelChange.objects.filter(wallet=wallet).count() == 2
    # The same level again records nothing.
    assert (
        limits.level_set(wallet=wallet, level=small, evidence="-", changed_by=staff, origin=COMMAND)
        is None
    )


def test_editing_a_level_reaches_the_accounts_of_its_wallets():
    lvl = level(limit_operation=100_00)
    wallet, other = wallet_at(lvl, balance=1_000_00), make_wallet(balance=1_000_00)
    lvl.limit_operation = 200_00
    lvl.save()
    assert limits.level_sync(level=lvl) == 1
    spend(wallet, 200_00)
    assert row(other).limit_operation is None


def test_the_period_totals_are_the_sums_of_the_movements():
    wallet = wallet_at(level(limit_out_month=1_000_00), balance=1_000_00)
    holds = [spend(wallet, amount) for amount in (10_00, 20_00, 30_00)]
    give_back(wallet, holds[1])
    receive(wallet, 5_00)
    account = row(wallet)
    day, _month = limits.periods(NOON)
    debits = Transfer.objects.filter(debit=account).aggregate(s=Sum("amount"))["s"]
    refunds = Transfer.objects.filter(credit=account, idempotency_key__startswith="refund:")
    refunded = refunds.aggregate(s=Sum("amount"))["s"]
    assert account.day_key == day
    assert account.out_day == account.out_month == debits - refunded == 40_00
