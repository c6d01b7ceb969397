"""What the catalogue scripts share: refresh locale/ky and locale/ru from the code."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGS = ["ky", "ru"]
IGNORE = [".venv", ".venv-serve", "staticfiles", "build", "node_modules"]


def makemessages() -> None:
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            *[f"-l{lang}" for lang in LANGS],
            "--no-obsolete",
            *[f"--ignore={path}" for path in IGNORE],
            "-v0",
        ],
        cwd=ROOT,
        check=True,
    )
