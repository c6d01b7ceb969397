"""Static files as the browser gets them: compressed by WhiteNoise and cached for a year under
their hashed names; the pages link the hashed names and contact no other host."""

import gzip
import re
import urllib.request

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalogue")]

YEAR = 365 * 24 * 3600


def fetch(url, **headers):
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - the live server
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.headers, response.read()


@pytest.mark.parametrize("name", ["css/kapchyk.css", "js/app.js", "icons/wallet.svg"])
def test_static_files_are_compressed_and_cached_long(live_server, name):
    url = live_server.url + static(name)
    assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), url  # the hashed name
    with open(finders.find(name), "rb") as source:
        original = source.read()

    status, headers, body = fetch(url, **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in headers["Vary"]
    assert gzip.decompress(body) == original
    assert len(body) < len(original)
    cache = dict(
        (part.split("=") + [True])[:2]
        for part in headers["Cache-Control"].replace(" ", "").split(",")
    )
    assert int(cache["max-age"]) >= YEAR and "immutable" in cache and "public" in cache

    # A browser that takes no compression gets the file as it is.
    status, headers, body = fetch(url, **{"Accept-Encoding": "identity"})
    assert status == 200 and "Content-Encoding" not in headers and body == original


def test_pages_link_hashed_static_files_only(live_server, client):
    html = client.get("/accounts/login/").content.decode()
    linked = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert linked, html
    assert all(re.search(r"\.[0-9a-f]{12}\.\w+$", url) for url in linked), linked
    # Every address the page refers to is on this site (or a phone number to call).
    addresses = re.findall(r'(?:href|src|action)="([^"]*)"', html)
    assert all(a.startswith(("/", "?", "#", "tel:")) for a in addresses), addresses
