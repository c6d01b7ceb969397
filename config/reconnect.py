"""Long-running commands outlive a database outage: they reconnect with backoff, never die.

A management command that loops for ever (the task worker, the housekeeping loop, the
`payments_retry --every` sweep) runs each round through `run_every()` or `attempt()`: a
database error (the server restarting, a dropped connection, a failover) closes every
connection, logs one WARNING, and waits — doubling from `first` up to `cap` seconds —
before the next round, which connects afresh. Other errors are not ours to hide: they
propagate (and the supervisor restarts the process).
"""

import logging
import time
from collections.abc import Callable
from contextlib import suppress

from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections
from django.db import connections as db_connections

logger = logging.getLogger("kapchyk.reconnect")

# What a lost or refused connection raises (psycopg's AdminShutdown, "connection refused",
# "server closed the connection unexpectedly", "connection already closed"; SQLite's
# "unable to open database file").
DATABASE_DOWN = (OperationalError, InterfaceError)


class Backoff:
    """Capped exponential backoff: first, 2·first, 4·first, ... at most cap seconds."""

    def __init__(self, *, first: float = 0.5, cap: float = 10.0):
        self.first, self.cap = first, cap
        self.failures = 0

    def next_delay(self) -> float:
        delay = min(self.first * 2**self.failures, self.cap)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


def close_connections() -> None:
    """Drop every database connection (a broken one cannot be reused); never raises."""
    for conn in db_connections.all(initialized_only=True):
        with suppress(DatabaseError):
            conn.close()


FAILED = object()  # what attempt() returns after a database error


def attempt(
    step: Callable[[], object],
    *,
    what: str,
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
):
    """Run one round of a loop: step()'s result, or FAILED after a database error (then
    the connections are closed, a WARNING logged and the backoff slept)."""
    close_old_connections()  # a long-running process: as a request would, before and after
    try:
        result = step()
    except DATABASE_DOWN as exc:
        close_connections()
        delay = backoff.next_delay()
        logger.warning(
            "%s: database unavailable (%s: %s); reconnecting in %.1f s (failure %d in a row)",
            what,
            type(exc).__name__,
            str(exc).strip().splitlines()[0] if str(exc).strip() else "",
            delay,
            backoff.failures,
        )
        sleep(delay)
        return FAILED
    if backoff.failures:
        logger.warning("%s: database back after %d failure(s)", what, backoff.failures)
        backoff.reset()
    close_old_connections()
    return result


def run_every(
    step: Callable[[], object],
    *,
    every: float,
    what: str,
    backoff: Backoff | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """step() every `every` seconds, for ever (until KeyboardInterrupt or SystemExit),
    surviving database outages (see attempt())."""
    backoff = backoff or Backoff()
    while True:
        if attempt(step, what=what, backoff=backoff, sleep=sleep) is not FAILED:
            sleep(every)  # (after a failure the backoff has slept already)


class ReconnectingCommand:
    """A mixin for a long-running management command: the system checks it runs at start
    (some ask the database, e.g. SQLite's JSON support) wait for the database too, instead
    of failing the start. `long_running(options)` says when (default: always)."""

    def long_running(self, options) -> bool:
        return True

    def execute(self, *args, **options):
        self._wait_for_database = self.long_running(options)
        return super().execute(*args, **options)

    def check(self, *args, **kwargs):
        parent = super()
        if not getattr(self, "_wait_for_database", False):
            return parent.check(*args, **kwargs)
        backoff = Backoff()
        what = f"{self.__module__.rsplit('.', 1)[-1]} (system checks)"
        while True:
            result = attempt(lambda: parent.check(*args, **kwargs), what=what, backoff=backoff)
            if result is not FAILED:
                return result
