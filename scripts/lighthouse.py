"""`make lighthouse`: Lighthouse 12 (mobile preset) on the main pages; prints category scores.

A report, not a gate (target: >= 95 in every category). Serves the demo with runserver on
127.0.0.1:8765 (production-like: DEBUG off, static files by WhiteNoise) and signs the demo
user in by a session cookie for the cabinet pages. Prints the audits that failed under each
page; the JSON reports stay in build/lighthouse/.
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
# (path, signed in?): the sign-in page shows only to a visitor who is not signed in.
PAGES = [
    ("/accounts/login/", False),
    ("/offer/", False),
    ("/cabinet/", True),
    ("/services/", True),
    ("/services/other/", True),
    ("/pay/dostek/", True),
    ("/cabinet/topup/", True),
    ("/cabinet/history/", True),
]
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
REPORTS = ROOT / "build" / "lighthouse"
CHROME_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run --disable-quic"
)


def session_cookie(env):
    code = (
        "from django.contrib.sessions.backends.db import SessionStore;"
        "from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY;"
        "from wallets.models import User;"
        "u = User.objects.get(phone='+996555123456');"
        "s = SessionStore(); s[SESSION_KEY] = str(u.pk);"
        "s[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend';"
        "s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.create();"
        "from django.conf import settings;"
        "print(settings.SESSION_COOKIE_NAME, s.session_key)"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    name, key = out.stdout.strip().splitlines()[-1].split()
    return name, key


def failing_audits(result):
    """Titles of the scored audits that did not pass, in the four categories."""
    audits = result["audits"]
    ids = {
        ref["id"]
        for key in CATEGORIES
        for ref in result["categories"][key]["auditRefs"]
        if ref.get("weight")
    }
    return sorted(
        audits[i]["title"]
        for i in ids
        if audits[i].get("score") is not None and audits[i]["score"] < 0.9
    )


def main():
    env = dict(
        os.environ,
        DJANGO_DEBUG="false",
        SECRET_KEY="lighthouse-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        # Plain http: no Secure cookies, so no __Host- names (see config/settings.py).
        COOKIES_SECURE="false",
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(BASE + "/offer/", timeout=1)  # noqa: S310 - local
                break
            except OSError:
                time.sleep(0.2)
        cookie_name, cookie = session_cookie(env)
        headers = json.dumps({"Cookie": f"{cookie_name}={cookie}"})
        REPORTS.mkdir(parents=True, exist_ok=True)
        print(f"{'page':22} perf  a11y  best  seo")
        for page, signed_in in PAGES:
            report = REPORTS / (page.strip("/").replace("/", "-") + ".json")
            report.unlink(missing_ok=True)
            subprocess.run(
                [
                    "npx",
                    "--yes",
                    "lighthouse@12.8.2",
                    BASE + page,
                    "--quiet",
                    "--output=json",
                    f"--output-path={report}",
                    f"--chrome-flags={CHROME_FLAGS}",
                    *([f"--extra-headers={headers}"] if signed_in else []),
                    "--only-categories=performance,accessibility,best-practices,seo",
                ],
                cwd=ROOT,
                env=dict(os.environ, CHROME_PATH="/usr/bin/chromium"),
                check=False,
            )
            try:
                result = json.loads(report.read_text())
                cats = result["categories"]
            except (OSError, ValueError, KeyError):
                print(f"{page:22} (no report)")
                continue
            scores = [round((cats[k]["score"] or 0) * 100) for k in CATEGORIES]
            print(f"{page:22} " + "  ".join(f"{s:4d}" for s in scores))
            if result.get("finalDisplayedUrl", BASE + page) != BASE + page:
                print(f"{'':22} (shown: {result['finalDisplayedUrl']})")
            for title in failing_audits(result):
                print(f"{'':22} - {title}")
        print(f"Reports: {REPORTS.relative_to(ROOT)}/")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
