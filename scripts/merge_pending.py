"""Fill the ky/ru catalogues from locale/_pending/*.tsv (msgid, ru, ky per line).

Runs makemessages first, then fills every empty or fuzzy entry whose msgid is in a pending
file; prints what is still missing. Usage: python scripts/merge_pending.py
"""

import subprocess
import sys

import polib
from i18n_common import ROOT, makemessages

PENDING = ROOT / "locale" / "_pending"


def load_pending():
    table = {}
    for path in sorted(PENDING.glob("*.tsv")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                print(f"{path.name}:{number}: expected 3 tab-separated columns, got {len(parts)}")
                continue
            msgid, ru, ky = (p.replace("\\n", "\n").replace("\\t", "\t") for p in parts)
            table[msgid] = {"ru": ru, "ky": ky}
    return table


def main() -> int:
    makemessages()
    table = load_pending()
    missing = 0
    for lang in ("ky", "ru"):
        po = polib.pofile(str(ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"))
        po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
        if lang == "ru":
            po.metadata["Plural-Forms"] = (
                "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
                "(n%100<10 || n%100>=20) ? 1 : 2);"
            )
        else:
            po.metadata["Plural-Forms"] = "nplurals=2; plural=(n != 1);"
        po.metadata["Language"] = lang
        for entry in po:
            key = entry.msgid if not entry.msgid_plural else f"{entry.msgid}|{entry.msgid_plural}"
            done = entry.msgstr or (entry.msgstr_plural and all(entry.msgstr_plural.values()))
            if done and "fuzzy" not in entry.flags:
                continue
            found = table.get(key)
            if found:
                if entry.msgid_plural:
                    forms = found[lang].split("|")
                    count = 3 if lang == "ru" else 2
                    forms = (forms + [forms[-1]] * count)[:count]
                    entry.msgstr_plural = dict(enumerate(forms))
                else:
                    entry.msgstr = found[lang]
                if "fuzzy" in entry.flags:
                    entry.flags.remove("fuzzy")
                    entry.previous_msgid = None
            else:
                missing += 1
                print(f"{lang}: missing: {key!r}")
        po.save()
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "compilemessages",
            "--ignore=.venv",
            "--ignore=.venv-serve",
            "-v0",
        ],
        cwd=ROOT,
        check=True,
    )
    print(f"{missing} missing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
