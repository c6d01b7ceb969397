import pytest
from django.core.cache import caches

from wallets import ledger


@pytest.fixture(autouse=True)
def _clean_cache_and_language(settings):
    # Rate limits live in the cache: every test starts with none used (and with no page
    # fragment rendered under another test's settings).
    for cache in caches.all():
        cache.clear()
    ledger.forget_system_accounts()  # their rows go with each test's rollback or flush
    settings.SMS_BACKEND = "wallets.sms.OutboxBackend"
    settings.LANGUAGE_CODE = "ru"
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def is_postgres():
    from django.db import connection

    return connection.vendor == "postgresql"


@pytest.fixture
def demo_data(db):
    """The real data the migrations load (the public offer v1), back after a flush."""
    from wallets.models import Offer
    from wallets.offer_v1 import load_offer

    load_offer(Offer)


@pytest.fixture
def catalogue(db, demo_data):
    """The demo catalogue, as `manage.py demo` loads it (no migration does: tests that need
    the providers ask for this fixture; the browser tests' live server sees it too)."""
    from providers import demo
    from providers.models import Category, Provider
    from wallets.models import Account

    demo.load(Category, Provider, Account)
    return {p.slug: p for p in Provider.objects.select_related("category", "account")}


@pytest.fixture
def admin_user(db, django_user_model):
    """pytest-django's admin_user, with a wallet number as users here have (not "admin")."""
    return django_user_model.objects.create_superuser("+996555000001", "password")


@pytest.fixture
def admin_client(db, admin_user):
    """pytest-django's admin_client, signed in with a second factor as the admin requires."""
    from django.test import Client

    from tests.staff import staff_login

    client = Client()
    staff_login(client, admin_user)
    return client
