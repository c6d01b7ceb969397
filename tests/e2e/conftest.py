"""Browser tests: Playwright driving Debian's Chromium against a live server.

The live server here lets WhiteNoise serve the collected, compressed static files (as in
production) instead of Django's development static handler, so page weight is real.
Screenshots go to build/screenshots/ (not committed).
"""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SHOTS = ROOT / "build" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 800}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="package", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API keeps an event loop running in the test's thread, where Django
    refuses ORM calls unless told it is safe. Only for the browser tests: the variable must not
    reach the rest of the suite (`check --deploy` in a subprocess rejects it)."""
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


@pytest.fixture(scope="package")
def browser():
    """One Chromium for all the browser tests, closed when they end (its event loop too)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}: CI must install it")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield instance
        instance.close()


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, with WhiteNoise serving static files as in production."""
    from django.conf import settings
    from pytest_django.live_server_helper import LiveServer

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        pytest.fail("run collectstatic first (make test does)")
    server = LiveServer("127.0.0.1", start=False)
    server.thread.static_handler = lambda app: app
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _live_server_settings(settings, live_server):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]


class Net:
    """Bytes transferred (compressed, headers included) and requests, from Chromium itself."""

    def __init__(self, page):
        self.requests = {}
        self.bytes = {}
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.loadingFinished", self._finished)

    def _sent(self, event):
        self.requests[event["requestId"]] = event["request"]["url"]

    def _finished(self, event):
        self.bytes[event["requestId"]] = event["encodedDataLength"]

    def reset(self):
        self.requests.clear()
        self.bytes.clear()

    def summary(self, *, exclude=("/static/logos/",)):
        urls = {
            rid: url for rid, url in self.requests.items() if not any(x in url for x in exclude)
        }
        return len(urls), sum(self.bytes.get(rid, 0) for rid in urls), sorted(urls.values())


def page_in(browser, *, size=PHONE, lang="ru", javascript=True, **options):
    """A page in a fresh context of `browser` (options: more of new_context's), with its
    network weight (page.net) and console errors (page.console_errors) recorded."""
    context = browser.new_context(
        viewport=size,
        locale="ru-RU" if lang == "ru" else "ky-KG",
        java_script_enabled=javascript,
        # No bypass_csp: the pages keep their CSP (axe-core is evaluated through CDP).
        **options,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.net = Net(page)
    page.console_errors = []
    page.on(
        "console",
        lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    return page


@pytest.fixture
def new_page(browser):
    """new_page(size=PHONE, lang="ru", javascript=True) → a page in a fresh context."""
    pages = []

    def make(size=PHONE, lang="ru", javascript=True):
        pages.append(page_in(browser, size=size, lang=lang, javascript=javascript))
        return pages[-1]

    yield make
    for page in pages:
        page.context.close()


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def axe_violations(page):
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail("axe-core is missing: run npm ci")
        pytest.skip("axe-core is not installed (npm ci)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result
    ]


def assert_accessible(page):
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, ensure_ascii=False, indent=1)


def assert_clean_console(page):
    """No script errors and no Content-Security-Policy violations on the page."""
    assert page.console_errors == [], page.console_errors


def assert_no_horizontal_scroll(page):
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"page scrolls sideways by {overflow}px"
