import pytest

from providers import demo
from providers.models import Category, Provider
from wallets.models import Account


@pytest.fixture
def catalogue(db):
    """The demo catalogue of the data migration (reloaded if a transactional test flushed it)."""
    demo.load(Category, Provider, Account)
    return {p.slug: p for p in Provider.objects.select_related("category", "account")}
