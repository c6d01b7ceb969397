"""Security headers and cookies of real responses, in development and production-like settings."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent

# What settings.py sets when DJANGO_DEBUG=false (checked against the real module below).
PRODUCTION = {
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SESSION_COOKIE_NAME": "__Host-sessionid",
    "CSRF_COOKIE_NAME": "__Host-csrftoken",
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
}


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_policy(response):
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        assert csp[directive][0] == "'self'"
        assert all(v.startswith("'nonce-") for v in csp[directive][1:]), csp[directive]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]


def assert_common_headers(response):
    assert_policy(response)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_development_pages_carry_the_headers_over_plain_http(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert_common_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # plain http in development
    csrf = response.cookies["csrftoken"]
    assert csrf["httponly"] is True
    assert csrf["samesite"] == "Lax"
    assert csrf["secure"] == ""  # http://127.0.0.1 keeps working


@pytest.mark.django_db
def test_signed_in_pages_carry_the_headers_and_a_short_lived_session(client):
    client.force_login(UserFactory())
    response = client.get("/cabinet/")
    assert response.status_code == 200
    assert_common_headers(response)
    session = response.cookies["sessionid"]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert session["max-age"] == 15 * 60


@pytest.mark.django_db
def test_nonce_in_the_header_matches_the_page(admin_client):
    # The admin renders inline <script>/<style> with {% csp_nonce_attr %}: allowed by the
    # request's nonce, not by 'unsafe-inline'.
    response = admin_client.get("/admin/wallets/user/")
    assert response.status_code == 200
    csp = csp_directives(response)
    nonces = {v[len("'nonce-") : -1] for v in csp["script-src"] if v.startswith("'nonce-")}
    assert len(nonces) == 1
    nonce = nonces.pop()
    assert f"'nonce-{nonce}'" in csp["style-src"]
    page = response.content.decode()
    assert f'nonce="{nonce}"' in page
    assert set(re.findall(r'nonce="([^"]+)"', page)) == {nonce}
    # A second request gets another nonce.
    again = csp_directives(admin_client.get("/admin/wallets/user/"))
    assert f"'nonce-{nonce}'" not in again["script-src"]


def assert_no_inline_code(page: str, url: str):
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), url
    assert "<style" not in page, url
    assert not re.search(r"\son[a-z]+=", page), url
    assert " style=" not in page, url


@pytest.mark.django_db
def test_our_pages_have_no_inline_script_or_style(client):
    assert_no_inline_code(client.get("/accounts/login/").content.decode(), "login")
    client.force_login(UserFactory())
    for url in ("/cabinet/", "/cabinet/history/", "/cabinet/security/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_inline_code(response.content.decode(), url)


@pytest.mark.django_db
@override_settings(**PRODUCTION)
def test_production_redirects_plain_http_to_https(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://testserver/accounts/login/"


@pytest.mark.django_db
@override_settings(**PRODUCTION)
def test_production_headers_and_host_cookies(client):
    response = client.get("/accounts/login/", secure=True)
    assert response.status_code == 200
    assert_common_headers(response)
    assert (
        response.headers["Strict-Transport-Security"]
        == "max-age=31536000; includeSubDomains; preload"
    )
    csrf = response.cookies["__Host-csrftoken"]
    # __Host- is kept by browsers only with Secure, Path=/ and no Domain.
    assert (csrf["secure"], csrf["path"], csrf["domain"]) == (True, "/", "")
    assert csrf["httponly"] is True
    assert csrf["samesite"] == "Lax"

    client.force_login(UserFactory())
    assert "__Host-sessionid" in client.cookies
    response = client.get("/cabinet/", secure=True)
    assert response.status_code == 200
    session = response.cookies["__Host-sessionid"]
    assert (session["secure"], session["path"], session["domain"]) == (True, "/", "")
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert "sessionid" not in response.cookies


@pytest.mark.django_db
@override_settings(**PRODUCTION)
def test_production_forms_post_with_the_host_csrf_cookie():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    user = UserFactory()
    client.force_login(user)
    page = client.get("/cabinet/security/", secure=True)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())[1]
    headers = {"Referer": "https://testserver/cabinet/security/"}
    refused = client.post("/cabinet/security/", secure=True, headers=headers)
    assert refused.status_code == 403
    response = client.post(
        "/cabinet/security/", {"csrfmiddlewaretoken": token}, secure=True, headers=headers
    )
    assert response.status_code == 302


def _production_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "COOKIES_SECURE", "LOG_FORMAT", "SECURE_SSL_REDIRECT"}
    }
    env.update(
        DJANGO_DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="kapchyk.kg",
        DJANGO_SETTINGS_MODULE="config.settings",
        **extra,
    )
    return env


def test_the_production_settings_module_is_hardened():
    # The real settings module, loaded as production loads it (not override_settings).
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"names = {sorted(PRODUCTION)!r} + ['SESSION_COOKIE_AGE', 'SESSION_REFRESH_SECONDS', "
        "'LANGUAGE_COOKIE_SECURE', 'DEBUG']; "
        "out = {n: getattr(s, n) for n in names}; "
        "out['formatter'] = s.LOGGING['handlers']['console']['formatter']; "
        "out['mailer'] = s.MAILERS['default']['BACKEND']; "
        "out['conn'] = [s.DATABASES['default'][k] for k in ('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS')]; "
        "print(json.dumps(out))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    for name, expected in PRODUCTION.items():
        expected = list(expected) if isinstance(expected, tuple) else expected
        assert values[name] == expected, name
    assert values["SESSION_COOKIE_AGE"] == 900
    assert values["SESSION_REFRESH_SECONDS"] == 60  # the idle timeout slides once a minute
    assert values["conn"] == [60, True]  # persistent connections, checked before reuse
    assert values["LANGUAGE_COOKIE_SECURE"] is True
    assert values["DEBUG"] is False
    assert values["formatter"] == "json"
    assert values["mailer"] == "django.core.mail.backends.smtp.EmailBackend"


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = _production_env()
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
