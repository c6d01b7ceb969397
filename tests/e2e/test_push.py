"""«Включить уведомления» on /notifications/ in a real browser (Chromium, 360×640): shown
when Web Push is configured and the browser has PushManager with JavaScript on, hidden
without JavaScript; the page passes the checks of every page (axe, no sideways scroll,
clean console, weight, no external host). The push itself: tests/notifications/test_push.py.
"""

import pytest
from django.conf import settings
from django.test import Client

from notifications.push import vapid_keys_new
from tests.e2e.pages import Checker
from tests.factories import make_wallet

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(new_page, live_server, user, **kwargs):
    client = Client()
    client.force_login(user)
    page = new_page(**kwargs)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return page


@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_the_push_button_is_offered_with_javascript_only(new_page, live_server, settings, lang):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_keys_new()
    wallet = make_wallet()
    caption = {"ru": "Включить уведомления", "ky": "Билдирүүлөрдү күйгүзүү"}[lang]

    page = signed_in(new_page, live_server, wallet.user, lang=lang)
    page.context.add_cookies([{"name": "kapchyk_language", "value": lang, "url": live_server.url}])
    check = Checker(page, base_url=live_server.url, lang=lang, prefix=f"push-{lang}")
    page.goto(live_server.url + "/notifications/")
    button = page.get_by_role("button", name=caption)
    button.wait_for(state="visible")
    assert not page.get_by_role("button", name="Отключить уведомления").is_visible()
    check("notifications-push")

    plain = signed_in(new_page, live_server, wallet.user, lang=lang, javascript=False)
    plain.context.add_cookies([{"name": "kapchyk_language", "value": lang, "url": live_server.url}])
    plain.goto(live_server.url + "/notifications/")
    assert plain.locator("#push").count() == 1
    assert not plain.locator("#push").is_visible()
    assert not plain.get_by_text(caption).is_visible()
