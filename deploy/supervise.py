#!/usr/bin/env python3
"""A small process supervisor (standard library only), used by `make serve`.

    python deploy/supervise.py [--grace S] [--max-delay S] NAME=COMMAND [NAME=COMMAND ...]

Starts every COMMAND (split like a shell would, no shell involved) and keeps it running:
a child that exits, for whatever reason, is started again after a backoff that doubles
from 1 s up to --max-delay (and is back to 1 s once a child has run for a minute).
SIGTERM, SIGINT or SIGHUP stop the children: SIGTERM is forwarded to each, and whatever
is still running --grace seconds later is killed (its whole process group). Each child
runs in its own session, so a Ctrl-C reaches the supervisor only (once), and on Linux it
is killed if the supervisor dies. The supervisor's own lines go to stderr, prefixed
"supervise:"; the children's output is theirs, unchanged.

On a real server systemd plays this part (deploy/systemd/, Restart=always).
"""

import argparse
import contextlib
import ctypes
import os
import shlex
import signal
import subprocess
import sys
import time

HEALTHY_RUN = 60.0  # seconds: a child that ran this long starts its backoff again from 1 s
FIRST_DELAY = 1.0


def say(text: str) -> None:
    print(f"supervise: {text}", file=sys.stderr, flush=True)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the child gets SIGTERM when the supervisor dies (PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


class Child:
    def __init__(self, name: str, argv: list[str]):
        self.name, self.argv = name, argv
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self.failures = 0
        self.restart_at = 0.0  # monotonic time of the next start
        self.starts = 0

    def start(self) -> None:
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - the operator's own commands
                self.argv,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
            )
        except OSError as exc:
            self.proc = None
            self.failures += 1
            delay = self.delay()
            say(f"{self.name}: cannot start {self.argv[0]!r} ({exc}); trying again in {delay:g} s")
            self.restart_at = time.monotonic() + delay
            return
        self.started = time.monotonic()
        self.starts += 1
        say(f"started {self.name} (pid {self.proc.pid})")

    def delay(self) -> float:
        return min(FIRST_DELAY * 2 ** max(self.failures - 1, 0), Supervisor.max_delay)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: int) -> None:
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signum)

    def kill_group(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)


class Supervisor:
    max_delay = 30.0

    def __init__(self, children: list[Child], *, grace: float):
        self.children = children
        self.grace = grace
        self.stopping: int | None = None

    def _on_signal(self, signum, frame):
        if self.stopping is None:
            self.stopping = signum

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        for child in self.children:
            child.start()
        while self.stopping is None:
            now = time.monotonic()
            for child in self.children:
                if child.proc is not None and child.proc.poll() is not None:
                    ran = now - child.started
                    child.failures = 1 if ran >= HEALTHY_RUN else child.failures + 1
                    delay = child.delay()
                    say(
                        f"{child.name} exited with status {child.proc.returncode} after "
                        f"{ran:.1f} s; restarting in {delay:g} s"
                    )
                    child.proc, child.restart_at = None, now + delay
                elif child.proc is None and now >= child.restart_at:
                    child.start()
            time.sleep(0.2)
        return self.stop()

    def stop(self) -> int:
        name = signal.Signals(self.stopping).name
        say(f"{name}: stopping {', '.join(c.name for c in self.children if c.running())}")
        for child in self.children:
            child.signal(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while any(c.running() for c in self.children) and time.monotonic() < deadline:
            time.sleep(0.1)
        for child in self.children:
            if child.running():
                say(f"{child.name} still running after {self.grace:g} s: killed")
            child.kill_group()  # and anything it left behind in its group
            if child.proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.proc.wait(timeout=5)
        say("stopped")
        return 0


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[Child]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grace", type=float, default=20.0, help="seconds to stop (20)")
    parser.add_argument(
        "--max-delay", type=float, default=30.0, help="longest pause between restarts (30)"
    )
    parser.add_argument("program", nargs="+", help="NAME=COMMAND")
    options = parser.parse_args(argv)
    children = []
    for spec in options.program:
        name, sep, command = spec.partition("=")
        argv_ = shlex.split(command)
        if not sep or not name or not argv_:
            parser.error(f"expected NAME=COMMAND, got {spec!r}")
        children.append(Child(name, argv_))
    return options, children


def main(argv: list[str] | None = None) -> int:
    options, children = parse(sys.argv[1:] if argv is None else argv)
    Supervisor.max_delay = options.max_delay
    return Supervisor(children, grace=options.grace).run()


if __name__ == "__main__":
    sys.exit(main())
