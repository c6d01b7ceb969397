"""Serve the pending translations (locale/_pending/*.tsv) to tests in the meantime.

The ky/ru catalogues are compiled centrally later from those files; until then the Russian
screens would show the English source strings. `pending_translations()` adds the rows of
the given areas to the loaded catalogues for the duration of a test and then restores them,
so the tests can assert the exact Russian captions the users will see.
"""

from contextlib import contextmanager
from pathlib import Path

from django.utils.translation import trans_real

PENDING = Path(__file__).resolve().parents[2] / "locale" / "_pending"
_MISSING = object()


def _rows(area: str):
    path = PENDING / f"{area}.tsv"
    if not path.exists():  # merged into the catalogues already
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            msgid, ru, ky = (cell.replace("\\n", "\n") for cell in line.split("\t"))
            yield msgid, {"ru": ru, "ky": ky}


@contextmanager
def pending_translations(*areas: str):
    saved = []
    try:
        for area in areas:
            for msgid, by_language in _rows(area):
                if "|" in msgid:  # plurals are not needed here
                    continue
                for language, text in by_language.items():
                    top = trans_real.translation(language)._catalog._catalogs[0]
                    saved.append((top, msgid, top.get(msgid, _MISSING)))
                    top[msgid] = text
        yield
    finally:
        for top, msgid, before in reversed(saved):
            if before is _MISSING:
                top.pop(msgid, None)
            else:
                top[msgid] = before
