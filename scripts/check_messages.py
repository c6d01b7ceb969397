"""Fail when the ky or ru catalogue has untranslated or fuzzy entries.

Run after `manage.py makemessages` so that every string in the code is in the catalogues.
Usage: python scripts/check_messages.py [--no-update]
"""

import sys
from pathlib import Path

from i18n_common import LANGS, ROOT, makemessages


def entries(path: Path):
    """Yield (msgid, [msgstr...], fuzzy, line) for each entry of a .po file."""
    entry = None
    field = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if line.startswith("#~"):
            continue
        if not line:
            if entry:
                yield entry
            entry, field = None, None
            continue
        if entry is None:
            entry = {"msgid": "", "msgstr": {}, "fuzzy": False, "line": number}
        if line.startswith("#,") and "fuzzy" in line:
            entry["fuzzy"] = True
        elif line.startswith("msgid_plural"):
            field = ("plural", None)
        elif line.startswith("msgid "):
            field = ("msgid", None)
            entry["msgid"] = line[6:].strip('"')
        elif line.startswith("msgstr["):
            index = line[7 : line.index("]")]
            field = ("msgstr", index)
            entry["msgstr"][index] = line[line.index("]") + 1 :].strip().strip('"')
        elif line.startswith("msgstr "):
            field = ("msgstr", "0")
            entry["msgstr"]["0"] = line[7:].strip('"')
        elif line.startswith('"') and field:
            if field[0] == "msgid":
                entry["msgid"] += line.strip('"')
            elif field[0] == "msgstr":
                entry["msgstr"][field[1]] += line.strip('"')
    if entry:
        yield entry


def main() -> int:
    if "--no-update" not in sys.argv:
        makemessages()
    bad = 0
    for lang in LANGS:
        po = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
        if not po.exists():
            print(f"{po}: missing")
            bad += 1
            continue
        count = 0
        for entry in entries(po):
            if not entry["msgid"]:
                continue  # the header
            count += 1
            if entry["fuzzy"]:
                print(f"{po}:{entry['line']}: fuzzy: {entry['msgid']!r}")
                bad += 1
            elif not entry["msgstr"] or any(not s for s in entry["msgstr"].values()):
                print(f"{po}:{entry['line']}: untranslated: {entry['msgid']!r}")
                bad += 1
        print(f"{lang}: {count} entries checked")
    if bad:
        print(f"{bad} catalogue problem(s)")
        return 1
    print("catalogues complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
