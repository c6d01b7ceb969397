"""Threads released together, for the concurrency tests on PostgreSQL."""

import threading

from django.db import connection


def run_together(count, work, *, timeout=120):
    """Run work(i) in `count` threads released at the same moment by a barrier.

    Returns each thread's result by index, or the exception it raised (the test inspects
    them). Every thread closes its own database connection.
    """
    barrier = threading.Barrier(count)
    results = [None] * count

    def runner(i):
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # the test inspects what happened
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return results
