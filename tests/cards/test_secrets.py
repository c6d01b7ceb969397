"""The card's full number and its CVV are never kept: link a card through the pages (with
a mistyped field first, so that the form is rendered back), then search every table of
the database, the log output, every response body and an error report for them."""

import logging
import re
import sys

import pytest
from django.core.signals import got_request_exception
from django.db import connection
from django.test import Client
from django.views.debug import ExceptionReporter

from cards import services
from cards.models import Card
from tests.factories import PASSWORD

from .conftest import CVV, EXPIRY, VISA, held_on_statement

pytestmark = pytest.mark.django_db

SPACED = " ".join(VISA[i : i + 4] for i in range(0, 16, 4))


def _found(text: str) -> list[str]:
    """Where the number or the CVV appears in `text` (the CVV as a number of its own)."""
    hits = []
    digits_only = re.sub(r"[ \-]", "", text)
    if VISA in text or VISA in digits_only or SPACED in text:
        hits.append("number")
    if re.search(rf"(?<![0-9A-Za-z]){CVV}(?![0-9A-Za-z])", text):
        hits.append("cvv")
    return hits


def _dump() -> str:
    """Every row of every table, as text."""
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                out.append(f"{table}: " + " | ".join(str(v) for v in row))
    return "\n".join(out)


def test_number_and_cvv_are_never_kept(
    wallet, acquirer, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    client = Client()
    assert client.login(phone=wallet.user.phone, password=PASSWORD)
    bodies = []

    def post(url, data):
        response = client.post(url, data)
        bodies.append(response.content.decode())
        return response

    card_data = {"name": "Моя Visa", "number": SPACED, "expiry": EXPIRY, "cvv": CVV}
    # A mistyped expiry: the form comes back, without the number or the CVV in it.
    again = post("/cards/add/", {**card_data, "expiry": "13/30"})
    assert again.status_code == 200 and "Моя Visa" in again.content.decode()
    response = post("/cards/add/", card_data)
    assert response.status_code == 302
    bodies.append(client.get(response.url).content.decode())
    post(response.url, {"amount": "1,00" if acquirer.held_amount(VISA) != 100 else "2,00"})
    with django_capture_on_commit_callbacks(execute=True):
        done = post(response.url, {"amount": held_on_statement(acquirer, VISA)})
    assert done.status_code == 302
    bodies.append(client.get("/cards/").content.decode())
    # The same card again (already linked): refused, and the form still shows neither.
    post("/cards/add/", card_data)
    assert Card.objects.get().status == Card.Status.LINKED
    assert Card.objects.get().masked == "411111******1111"

    for where, text in [("database", _dump()), ("logs", caplog.text)] + [
        (f"response {i}", body) for i, body in enumerate(bodies)
    ]:
        assert _found(text) == [], where
    # The acquirer did get them (they are its business, not ours).
    assert acquirer.requests[0]["op"] == "hold"


def test_not_in_an_error_report(wallet, acquirer, monkeypatch):
    """A bug after the card was typed: the error report (what the admins' mail and the
    debug page show) has neither the number nor the CVV."""

    def broken(*, wallet, details):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "card_link_start", broken)
    reports = []

    def report(sender, request, **kwargs):
        reporter = ExceptionReporter(request, *sys.exc_info())
        reports.append(reporter.get_traceback_text() + reporter.get_traceback_html())

    got_request_exception.connect(report)
    try:
        client = Client(raise_request_exception=False)
        assert client.login(phone=wallet.user.phone, password=PASSWORD)
        data = {"name": "Моя Visa", "number": VISA, "expiry": EXPIRY, "cvv": CVV}
        assert client.post("/cards/add/", data).status_code == 500
    finally:
        got_request_exception.disconnect(report)
    assert reports and "boom" in reports[0]
    assert _found(reports[0]) == []
