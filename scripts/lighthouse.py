"""`make lighthouse`: Lighthouse 12 (mobile preset) on the main pages; prints category scores.

A report, not a gate (target: >= 95 in every category). Serves the demo with runserver on
127.0.0.1:8765 (production-like: DEBUG off, static files by WhiteNoise) and signs the demo
user in by a session cookie for the cabinet pages.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
PAGES = ["/accounts/login/", "/offer/", "/cabinet/", "/services/", "/cabinet/history/"]
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
        "s[HASH_SESSION_KEY] = u.get_session_auth_hash(); s.create(); print(s.session_key)"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def main():
    env = dict(
        os.environ,
        DJANGO_DEBUG="false",
        SECRET_KEY="lighthouse-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
    )
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload", "--insecure"],
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
        cookie = session_cookie(env)
        cookie_name = "sessionid"
        headers = json.dumps({"Cookie": f"{cookie_name}={cookie}"})
        print(f"{'page':22} perf  a11y  best  seo")
        for page in PAGES:
            with tempfile.NamedTemporaryFile(suffix=".json") as report:
                subprocess.run(
                    [
                        "npx",
                        "--yes",
                        "lighthouse@12.8.2",
                        BASE + page,
                        "--quiet",
                        "--output=json",
                        f"--output-path={report.name}",
                        f"--chrome-flags={CHROME_FLAGS}",
                        f"--extra-headers={headers}",
                        "--only-categories=performance,accessibility,best-practices,seo",
                    ],
                    cwd=ROOT,
                    env=dict(os.environ, CHROME_PATH="/usr/bin/chromium"),
                    check=False,
                )
                try:
                    cats = json.loads(Path(report.name).read_text())["categories"]
                except (ValueError, KeyError):
                    print(f"{page:22} (no report)")
                    continue
            scores = [
                round((cats[k]["score"] or 0) * 100)
                for k in ("performance", "accessibility", "best-practices", "seo")
            ]
            print(f"{page:22} " + "  ".join(f"{s:4d}" for s in scores))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
