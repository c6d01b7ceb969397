"""The lock files: every input pinned in them at its version, every package with hashes,
and no test or lint tool in what production installs (requirements.lock)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV_ONLY = {
    "pytest",
    "pytest-django",
    "factory-boy",
    "faker",
    "hypothesis",
    "aiosmtpd",
    "playwright",
    "ruff",
    "bandit",
    "polib",
    "uv",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def inputs(path: Path) -> dict[str, str]:
    """name → version of the `name==version` lines of a requirements file (and its -r files)."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins |= inputs(path.parent / line[3:].strip())
        elif line:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;]+)", line)
            assert match, f"{path.name}: pin it exactly (name==version): {line!r}"
            pins[canonical(match[1])] = match[3]
    return pins


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) of a lock file."""
    text = path.read_text()
    found = {}
    for block in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9_.-]+)==([^\s;\\]+)", block)
        if match:
            found[canonical(match[1])] = (match[2], len(re.findall(r"--hash=sha256:", block)))
    return found


@pytest.mark.parametrize(
    ("source", "lock"),
    [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")],
)
def test_the_lock_pins_every_input_at_its_version_with_hashes(source, lock):
    wanted, have = inputs(ROOT / source), locked(ROOT / lock)
    missing = {
        name: version for name, version in wanted.items() if have.get(name, ("",))[0] != version
    }
    assert missing == {}, f"{source} changed: run `make lock`"
    assert [name for name, (_v, hashes) in have.items() if hashes == 0] == []


def test_production_installs_no_test_or_lint_tool():
    assert DEV_ONLY & set(inputs(ROOT / "requirements.txt")) == set()
    assert DEV_ONLY & set(locked(ROOT / "requirements.lock")) == set()
    # The dev lock adds the tools to the runtime packages at the same versions.
    runtime, dev = locked(ROOT / "requirements.lock"), locked(ROOT / "requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text().splitlines()
