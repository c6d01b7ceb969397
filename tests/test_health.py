"""/healthz: 200 while the database answers, 503 when it does not; never a session."""

import logging

import pytest
from django.contrib.sessions.models import Session
from django.db import OperationalError
from django.test import Client, override_settings

from wallets import health


@pytest.mark.django_db
def test_healthy_answers_ok_without_cookies():
    client = Client(enforce_csrf_checks=True)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "no-cache" in response.headers["Cache-Control"]
    assert response.cookies == {}
    assert "Set-Cookie" not in response.headers
    assert Session.objects.count() == 0
    assert response.headers["X-Request-ID"]


@pytest.mark.django_db
def test_head_works_and_writes_are_refused():
    client = Client(enforce_csrf_checks=True)
    assert client.head("/healthz").status_code == 200
    # No CSRF token, yet 405 (not 403): the probe is exempt, it simply takes no POST.
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True, SECURE_REDIRECT_EXEMPT=[r"^healthz$"])
def test_plain_http_probe_is_not_redirected_in_production():
    assert Client().get("/healthz").status_code == 200
    assert Client().get("/cabinet/").status_code == 301


class _DeadConnection:
    """The database at the edge of the world: the server is gone."""

    def cursor(self):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


@pytest.mark.django_db
def test_unavailable_when_the_database_does_not_answer(monkeypatch, caplog):
    monkeypatch.setattr(health, "connection", _DeadConnection())
    with caplog.at_level(logging.ERROR, logger="wallets.health"):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.content == b"database unavailable"
    assert response.cookies == {}
    assert [r.getMessage() for r in caplog.records if r.name == "wallets.health"] == [
        "health check: the database does not answer (OperationalError)"
    ]
