"""CSRF: a POST without the token is refused (403) at every URL of the project.

The URLs come from the resolver, so a new view is in the sweep by itself. Only the views in
EXEMPT take a POST without the token, each for a stated reason, and are checked to refuse
a caller without their own credential.
"""

import pytest
from django.test import Client

from tests.factories import UserFactory, make_wallet
from tests.security.urls import all_routes
from tests.staff import staff_login

pytestmark = pytest.mark.django_db

EXEMPT = {
    "ussd:gateway": "the operator's USSD gateway, not a browser: a shared secret and/or its "
    "addresses authenticate every request (settings.USSD_SHARED_SECRET / USSD_ALLOWED_IPS)",
    "healthz": "the load balancer's probe: GET/HEAD only, no session, changes nothing",
    "healthz_ledger": "monitoring's probe of the last ledger check: GET/HEAD only, no session, "
    "changes nothing",
}


@pytest.fixture
def browser(settings):
    """A signed-in superuser's browser holding a CSRF cookie, as a forged form would find it."""
    user = UserFactory(is_staff=True, is_superuser=True)
    make_wallet(balance=100_00, user=user)
    client = Client(enforce_csrf_checks=True)
    staff_login(client, user)
    client.get("/cabinet/")  # a page with a form sets the cookie
    assert settings.CSRF_COOKIE_NAME in client.cookies
    return client


def test_only_the_listed_views_are_csrf_exempt():
    exempt = {r.label for r in all_routes() if getattr(r.callback, "csrf_exempt", False)}
    assert exempt == set(EXEMPT)


def test_every_post_without_the_token_is_refused(browser):
    routes = [r for r in all_routes() if r.label not in EXEMPT]
    assert len(routes) > 100
    accepted = []
    for route in routes:
        url = route.url()
        response = browser.post(url, {"amount": "100", "name": "x", "password": "x"})
        if response.status_code != 403 or b"CSRF" not in response.content:
            accepted.append((route.label, url, response.status_code))
    assert accepted == []


def test_the_exempt_views_refuse_without_their_own_credential(settings):
    settings.USSD_SHARED_SECRET = "the-operators-secret"
    settings.USSD_ALLOWED_IPS = []
    client = Client(enforce_csrf_checks=True)
    form = {"sessionId": "s1", "serviceCode": "*900#", "phoneNumber": "+996555000001", "text": ""}
    assert client.post("/ussd/", form).status_code == 403
    assert client.post("/ussd/", form, headers={"X-USSD-Secret": "wrong"}).status_code == 403
    ok = client.post("/ussd/", form, headers={"X-USSD-Secret": "the-operators-secret"})
    assert ok.status_code == 200
    assert client.post("/healthz").status_code == 405
    assert client.post("/healthz/ledger").status_code == 405
