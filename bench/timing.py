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


def _child(group, index, make_op, threads, barrier, results, warmup, seconds, after, start_at):
    try:
        ops = [make_op(index * threads + t) for t in range(threads)]
        barrier.wait(SETUP_TIMEOUT)
        start = _start(start_at) + warmup
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
        results.put((group, sum(c for c, _ in tally), sum(f for _, f in tally), None))
    except BaseException:  # noqa: BLE001 - reported to the parent, which stops the run
        results.put((group, 0, 0, traceback.format_exc()))
        barrier.abort()


def _start(start_at):
    """Now, or the wall-clock moment `start_at` (time.time()) on the monotonic clock: another
    interpreter (a peer in its own venv) measures in the same window."""
    now = time.monotonic()
    if start_at is None:
        return now
    return now + max(0.0, start_at - time.time())


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
    return measure_together(
        {"": make_op},
        procs=procs,
        seconds=seconds,
        warmup=warmup,
        threads=threads,
        side=side,
        after=after,
    )[""]


def measure_together(
    groups, *, procs, seconds, warmup=1.0, threads=1, side=None, after=None, start_at=None
):
    """As measure(), for several kinds of operation at the same time: `groups` maps a name
    to its make_op, each kind runs in its own `procs` processes, all in the same window;
    return {name: Rate}. Kinds compared side by side share whatever else loads the machine
    at that moment, so their ratio does not depend on when each was measured. With
    `start_at` (a time.time() value, after every process is ready) the window starts then,
    so that a peer measured by another interpreter shares it too."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(len(groups) * procs + 1 + (side is not None))
    results = context.Queue()
    stop = context.Event()
    children = [
        context.Process(
            target=_child,
            args=(name, i, make_op, threads, barrier, results, warmup, seconds, after, start_at),
        )
        for name, make_op in groups.items()
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
        if start_at is not None and time.time() > start_at:
            raise RuntimeError("the processes were ready only after the agreed start")
        counts = dict.fromkeys(groups, 0)
        failures = dict.fromkeys(groups, 0)
        done, errors = 0, []
        wait = max(0.0, (start_at or time.time()) - time.time())
        deadline = time.monotonic() + wait + warmup + seconds + 120
        while done + len(errors) < len(children) - (side is not None):
            try:
                name, count, failed, error = results.get(
                    timeout=max(1.0, deadline - time.monotonic())
                )
            except queue.Empty:
                raise RuntimeError("a benchmark process did not finish in time") from None
            if error:
                errors.append(error)
            else:
                done += 1
                counts[name] += count
                failures[name] += failed
        if errors:
            raise RuntimeError("a benchmark process failed:\n" + errors[0])
        rates = {}
        for name in groups:
            rates[name] = Rate(counts[name] / seconds)
            rates[name].failures = failures[name]
        return rates
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
