import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clean_cache_and_language(settings):
    # Rate limits live in the cache: every test starts with none used.
    cache.clear()
    settings.SMS_BACKEND = "wallets.sms.OutboxBackend"
    settings.LANGUAGE_CODE = "ru"
    yield
    cache.clear()


@pytest.fixture
def is_postgres():
    from django.db import connection

    return connection.vendor == "postgresql"
