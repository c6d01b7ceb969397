"""The project's production check (wallets.checks, `manage.py check --deploy`).

With DJANGO_DEBUG=false a per-process cache, an in-process task backend or a console SMS
backend is an Error; the production defaults pass (as .ci/run checks)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from wallets.checks import production_settings

ROOT = Path(__file__).resolve().parent.parent
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def production(settings, tmp_path):
    settings.DEBUG = False
    # Shared by processes, and usable by the suite's cache.clear() after the test.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    settings.TASKS = DB_TASKS
    settings.SMS_BACKEND = "wallets.sms.OutboxBackend"
    return settings


def ids(settings=None):
    return [error.id for error in production_settings()]


def test_production_settings_pass(production):
    assert ids() == []
    production.SMS_BACKEND = "wallets.sms.HttpGatewayBackend"
    production.SMS_GATEWAY_URL = "https://sms.example.kg/send"
    assert ids() == []


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
    ],
)
def test_a_per_process_cache_is_an_error(production, backend):
    production.CACHES = {"default": {"BACKEND": backend}}
    errors = production_settings()
    assert [e.id for e in errors] == ["kapchyk.E001"]
    assert errors[0].is_serious()
    assert "CACHE_URL" in errors[0].hint


def test_the_database_cache_is_shared(production):
    database = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "t"}
    with override_settings(CACHES={"default": database}):  # over before the suite's clear()
        assert ids() == []


@pytest.mark.parametrize(
    "backend",
    [
        "django.tasks.backends.immediate.ImmediateBackend",
        "django.tasks.backends.dummy.DummyBackend",
    ],
)
def test_an_in_process_task_backend_is_an_error(production, backend):
    production.TASKS = {"default": {"BACKEND": backend}}
    assert ids() == ["kapchyk.E002"]


def test_a_console_sms_backend_is_an_error(production):
    production.SMS_BACKEND = "wallets.sms.ConsoleAndOutboxBackend"
    assert ids() == ["kapchyk.E003"]
    production.SMS_BACKEND = "wallets.sms.NoSuchBackend"
    assert ids() == ["kapchyk.E003"]


def test_a_gateway_without_its_url_is_an_error(production):
    production.SMS_BACKEND = "wallets.sms.HttpGatewayBackend"
    production.SMS_GATEWAY_URL = ""
    assert ids() == ["kapchyk.E004"]


def test_development_is_not_checked(production):
    production.DEBUG = True
    production.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    production.SMS_BACKEND = "wallets.sms.ConsoleAndOutboxBackend"
    assert ids() == []


# --- the real settings module, as production loads it ---


def _env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CACHE_", "SMS_", "TASKS_", "DJANGO_"))
        and k not in {"DATABASE_URL", "PYTEST_CURRENT_TEST"}
    }
    env.update(
        DJANGO_DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="kapchyk.kg",
        DJANGO_SETTINGS_MODULE="config.settings",
        **extra,
    )
    return env


def _run(*args, **env):
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings(**env) -> dict:
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.CACHES['default'], s.TASKS['default']['BACKEND'], s.SMS_BACKEND]))"
    )
    result = _run("-c", script, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_defaults_are_shared_and_quiet():
    cache, tasks, sms = _settings()
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert (cache["LOCATION"], cache["KEY_PREFIX"]) == ("redis://127.0.0.1:6379/0", "kapchyk")
    assert tasks == "django_tasks_db.DatabaseBackend"
    assert sms == "wallets.sms.OutboxBackend"
    assert _settings(SMS_GATEWAY_URL="https://sms.example.kg/send")[2] == (
        "wallets.sms.HttpGatewayBackend"
    )


def test_cache_url_chooses_the_cache():
    cache = _settings(CACHE_URL="redis://10.0.0.7:6380/3", CACHE_KEY_PREFIX="k2")[0]
    assert (cache["BACKEND"], cache["LOCATION"], cache["KEY_PREFIX"]) == (
        "django.core.cache.backends.redis.RedisCache",
        "redis://10.0.0.7:6380/3",
        "k2",
    )
    cache = _settings(CACHE_URL="dbcache://kapchyk_cache")[0]
    assert (cache["BACKEND"], cache["LOCATION"]) == (
        "django.core.cache.backends.db.DatabaseCache",
        "kapchyk_cache",
    )


def test_check_deploy_fails_with_a_per_process_cache_or_a_console_sms_backend():
    result = _run(
        "manage.py",
        "check",
        "--deploy",
        CACHE_URL="locmemcache://kapchyk",
        SMS_BACKEND="wallets.sms.ConsoleAndOutboxBackend",
        TASKS_BACKEND="django.tasks.backends.immediate.ImmediateBackend",
    )
    assert result.returncode != 0
    for code in ("kapchyk.E001", "kapchyk.E002", "kapchyk.E003"):
        assert code in result.stderr, result.stderr
