"""Public pages in a real browser: offer page, language, accessibility, weight, installability."""

import pytest

from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    assert_accessible,
    assert_clean_console,
    assert_no_horizontal_scroll,
    shot,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalogue")]


@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_offer_page_in_both_languages(new_page, live_server, size):
    page = new_page(size=size)
    page.goto(live_server.url + "/offer/")
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Публичная оферта электронного кошелька «Капчык»"
    )
    assert_no_horizontal_scroll(page)
    assert_accessible(page)
    assert_clean_console(page)
    shot(page, "offer-ru")
    page.get_by_role("button", name="Кыргызча").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ky"
    assert page.get_by_role("heading", level=1).inner_text() == (
        "«Капчык» электрондук капчыгынын ачык офертасы"
    )
    assert_accessible(page)
    shot(page, "offer-ky")
    # The choice is remembered.
    page.goto(live_server.url + "/offer/")
    assert page.locator("html").get_attribute("lang") == "ky"


def test_page_weight_and_no_external_hosts(new_page, live_server):
    page = new_page()
    page.goto(live_server.url + "/offer/")
    page.wait_for_load_state("networkidle")
    count, size, urls = page.net.summary()
    assert all(url.startswith(live_server.url) for url in urls), urls
    assert count <= 8, urls
    assert size <= 30 * 1024, (size, urls)


def test_installable_manifest_and_service_worker(new_page, live_server):
    page = new_page()
    page.goto(live_server.url + "/offer/")
    manifest = page.evaluate(
        "async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json()"
    )
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    registered = page.evaluate(
        "async () => { const r = await navigator.serviceWorker.ready; return r.active.scriptURL; }"
    )
    assert registered == live_server.url + "/sw.js"
    source = page.evaluate("async () => (await fetch('/sw.js')).text()")
    assert "network only" in source and "/static/" in source
