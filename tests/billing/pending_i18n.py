"""Serve the pending translations (locale/_pending/<area>.tsv) to tests in the meantime.

The ky/ru catalogues are compiled centrally from those files later; until then the Russian
screens would show the English source strings. `pending_translations()` adds the rows of
the given areas (plurals included) to the loaded catalogues for the duration of a test and
restores them afterwards. Once an area is merged (its file gone), it does nothing.
"""

from contextlib import contextmanager
from pathlib import Path

from django.utils.translation import trans_real

PENDING = Path(__file__).resolve().parents[2] / "locale" / "_pending"
_MISSING = object()


def _rows(area: str):
    path = PENDING / f"{area}.tsv"
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            msgid, ru, ky = (cell.replace("\\n", "\n") for cell in line.split("\t"))
            yield msgid, {"ru": ru, "ky": ky}


def _keys(msgid: str, text: str):
    if "|" not in msgid:
        yield msgid, text
        return
    singular = msgid.split("|", 1)[0]
    for index, form in enumerate(text.split("|")):
        yield (singular, index), form


@contextmanager
def pending_translations(*areas: str):
    saved = []
    try:
        for area in areas:
            for msgid, by_language in _rows(area):
                for language, text in by_language.items():
                    top = trans_real.translation(language)._catalog._catalogs[0]
                    for key, value in _keys(msgid, text):
                        if top.get(key):
                            continue  # the real catalogue has it already
                        saved.append((top, key, top.get(key, _MISSING)))
                        top[key] = value
        yield
    finally:
        for top, key, before in reversed(saved):
            if before is _MISSING:
                top.pop(key, None)
            else:
                top[key] = before
