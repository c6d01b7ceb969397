"""One housekeeping loop beside the task worker (`manage.py housekeeping`).

Each job runs at its own interval: the payments sweep, the overdue flag and the cards sweep
(expired linkings, holds to void, top-ups to ask about again) every round,
the ledger fold every HOUSEKEEPING_LEDGER_FOLD seconds, the ledger check (stored for
/healthz/ledger) every HOUSEKEEPING_LEDGER_CHECK, expired web sessions and USSD sessions
purged every HOUSEKEEPING_CLEARSESSIONS / HOUSEKEEPING_USSD_PURGE, and the outbox's codes
past SMS_OUTBOX_SECRET_TTL masked as often as the USSD purge. Every job is safe to
run in several processes at once (claims, compare-and-set, skip-locked folds), so two
machines may each run a loop.

A database error aborts the round (the jobs not run stay due) and the loop reconnects with
backoff (config.reconnect); any other error in a job is logged and that job is tried again
at its next interval, so one job's bug never stops the others.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings

from config.reconnect import DATABASE_DOWN

logger = logging.getLogger("kapchyk.housekeeping")


def _payments_sweep() -> str:
    from billing.services import payments_sweep

    return f"{len(payments_sweep(limit=500))} attempted"


def _cards_sweep() -> str:
    from cards.services import cards_housekeeping

    return cards_housekeeping()


def _payments_overdue() -> str:
    from billing.overdue import payments_overdue_flag

    return f"{len(payments_overdue_flag())} flagged"


def _ledger_fold() -> str:
    from wallets import ledger

    return f"{ledger.fold_entries()} entries folded"


def _ledger_check() -> str:
    from wallets.health import ledger_check_record

    problems = ledger_check_record()
    return f"{len(problems)} problem(s)" if problems else "ok"


def _clearsessions() -> str:
    from wallets.devices import challenges_purge

    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
    # Quick sign-in's one-time challenges (wallets.devices) past their expiry go too.
    return f"done, {challenges_purge()} device challenges purged"


def _sms_redact() -> str:
    from wallets.sms import outbox_redact

    return f"{outbox_redact()} masked"


def _ussd_purge() -> str:
    from ussd.engine import sessions_purge

    return f"{sessions_purge()} purged"


@dataclass
class Job:
    name: str
    interval: Callable[[float], float]  # from the round's length (--every), in seconds
    run: Callable[[], str]  # what it did, for the log


JOBS = [
    Job("payments_sweep", lambda every: every, _payments_sweep),
    Job("payments_overdue", lambda every: every, _payments_overdue),
    Job("cards_sweep", lambda every: every, _cards_sweep),
    Job("ledger_fold", lambda every: settings.HOUSEKEEPING_LEDGER_FOLD, _ledger_fold),
    Job("ledger_check", lambda every: settings.HOUSEKEEPING_LEDGER_CHECK, _ledger_check),
    Job("clearsessions", lambda every: settings.HOUSEKEEPING_CLEARSESSIONS, _clearsessions),
    Job("ussd_purge", lambda every: settings.HOUSEKEEPING_USSD_PURGE, _ussd_purge),
    Job("sms_redact", lambda every: settings.HOUSEKEEPING_USSD_PURGE, _sms_redact),
]


class Housekeeping:
    """The schedule: every job is due at start, then after its interval."""

    def __init__(self, *, every: float, jobs=None, clock: Callable[[], float] = time.monotonic):
        self.every, self.jobs, self.clock = every, list(jobs or JOBS), clock
        self.next_run = {job.name: 0.0 for job in self.jobs}

    def run_due(self) -> dict[str, str]:
        """Run the jobs that are due, in order; what each did. A database error propagates
        (the caller reconnects); the jobs after it stay due."""
        done = {}
        for job in self.jobs:
            if self.clock() < self.next_run[job.name]:
                continue
            try:
                done[job.name] = job.run()
            except DATABASE_DOWN:
                raise
            except Exception:
                logger.exception("housekeeping: %s failed", job.name)
                done[job.name] = "failed"
            self.next_run[job.name] = self.clock() + job.interval(self.every)
        return done
