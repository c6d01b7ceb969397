"""Operations/s from several processes (forked, as gunicorn's workers are), not threads.

Only the standard library here: the peers' own interpreter (the hordak venv) uses it too.
"""

import multiprocessing
import queue
import statistics
import threading
import time
import traceback

SETUP_TIMEOUT = 300.0


class Rate(float):
    """Operations/s; `failures`: operations that returned False in the window."""

    failures = 0


def _loop(op, start, end, tally):
    n = count = failures = 0
    while True:
        ok = op(n)
        n += 1
        now = time.monotonic()
        if now >= end:
            break
        if now >= start:
            if ok is False:
                failures += 1
            else:
                count += 1
    tally.append((count, failures))


def _child(index, make_op, threads, barrier, results, warmup, seconds, after):
    try:
        ops = [make_op(index * threads + t) for t in range(threads)]
        barrier.wait(SETUP_TIMEOUT)
        start = time.monotonic() + warmup
        end = start + seconds
        tally = []
        if threads == 1:
            _loop(ops[0], start, end, tally)
        else:
            errors = []

            def run(op):
                try:
                    _loop(op, start, end, tally)
                except BaseException:  # noqa: BLE001 - reported below
                    errors.append(traceback.format_exc())

            workers = [threading.Thread(target=run, args=(op,)) for op in ops]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
            if errors:
                raise RuntimeError(errors[0])
        if after is not None:
            after()
        results.put((index, sum(c for c, _ in tally), sum(f for _, f in tally), None))
    except BaseException:  # noqa: BLE001 - reported to the parent, which stops the run
        results.put((index, 0, 0, traceback.format_exc()))
        barrier.abort()


def _side(function, barrier, stop):
    barrier.wait(SETUP_TIMEOUT)
    function(stop)


def _first_error(results):
    """The failure that broke the barrier, not the others' BrokenBarrierError."""
    errors = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            error = results.get(timeout=max(0.1, deadline - time.monotonic()))[3]
        except queue.Empty:
            break
        if error and "BrokenBarrierError" not in error:
            return error
        errors.append(error)
    return next(filter(None, errors), "(no report)")


def measure(make_op, *, procs, seconds, warmup=1.0, threads=1, side=None, after=None):
    """Run the ops made by `make_op(i)` — each called with a running number — in `procs`
    forked processes of `threads` threads for `warmup` + `seconds`; return the operations/s
    of the last `seconds` (a Rate).

    `make_op` runs in the child (its setup is not timed), `after()` there at the end;
    `side(stop_event)`, when given, runs in one more process during the measurement (the
    ledger fold). The caller closes its database connections first: a forked child must
    not share the parent's socket.
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(procs + 1 + (side is not None))
    results = context.Queue()
    stop = context.Event()
    children = [
        context.Process(
            target=_child,
            args=(i, make_op, threads, barrier, results, warmup, seconds, after),
        )
        for i in range(procs)
    ]
    if side is not None:
        children.append(context.Process(target=_side, args=(side, barrier, stop)))
    try:
        for child in children:
            child.start()
        try:
            barrier.wait(SETUP_TIMEOUT)
        except threading.BrokenBarrierError:
            raise RuntimeError(
                f"a benchmark process failed to start:\n{_first_error(results)}"
            ) from None
        counts, failures, errors = [], 0, []
        deadline = time.monotonic() + warmup + seconds + 120
        while len(counts) + len(errors) < procs:
            try:
                _index, count, failed, error = results.get(
                    timeout=max(1.0, deadline - time.monotonic())
                )
            except queue.Empty:
                raise RuntimeError("a benchmark process did not finish in time") from None
            if error:
                errors.append(error)
            else:
                counts.append(count)
                failures += failed
        if errors:
            raise RuntimeError("a benchmark process failed:\n" + errors[0])
        result = Rate(sum(counts) / seconds)
        result.failures = failures
        return result
    finally:
        stop.set()
        for child in children:
            child.join(30)
        for child in children:
            if child.is_alive():
                child.kill()
                child.join(5)


def median(values):
    return statistics.median(values) if values else float("nan")
