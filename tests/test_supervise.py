"""deploy/supervise.py: what exits is started again (with backoff); SIGTERM is forwarded to
every child and the supervisor exits once they have stopped."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUPERVISE = ROOT / "deploy" / "supervise.py"


def test_restarts_what_exits_and_forwards_sigterm(tmp_path):
    marks = tmp_path / "marks"
    stopped = tmp_path / "stopped"
    crasher = f"{sys.executable} -c \"open('{marks}', 'a').write('x'); raise SystemExit(3)\""
    sleeper = (
        f'{sys.executable} -c "import signal, sys, time; '
        f"signal.signal(signal.SIGTERM, lambda *a: (open('{stopped}', 'w').write('term'), "
        f'sys.exit(0))); time.sleep(600)"'
    )
    proc = subprocess.Popen(
        [sys.executable, str(SUPERVISE), "--grace", "5", f"crash={crasher}", f"long={sleeper}"],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not (marks.exists() and len(marks.read_text()) >= 3):
            assert proc.poll() is None
            assert time.monotonic() < deadline, "the crashing child was not restarted"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    assert proc.returncode == 0
    assert stopped.read_text() == "term"  # the long-running child got SIGTERM
    lines = err.splitlines()
    assert len([line for line in lines if line.startswith("supervise: started long ")]) == 1
    restarts = [line for line in lines if line.startswith("supervise: crash exited with status 3")]
    assert len(restarts) >= 2
    # The backoff doubles: 1 s, then 2 s.
    assert restarts[0].endswith("restarting in 1 s")
    assert restarts[1].endswith("restarting in 2 s")
    assert lines[-1] == "supervise: stopped"


def test_refuses_a_malformed_program():
    done = subprocess.run(
        [sys.executable, str(SUPERVISE), "no-equals-sign"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "expected NAME=COMMAND" in done.stderr
