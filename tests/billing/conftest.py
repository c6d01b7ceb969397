import pytest

from providers import demo
from providers.models import Category, Provider
from tests.billing.pending_i18n import pending_translations
from wallets.models import Account


@pytest.fixture
def catalogue(db):
    """The demo catalogue of the data migration (reloaded if a transactional test flushed it)."""
    demo.load(Category, Provider, Account)
    return {p.slug: p for p in Provider.objects.select_related("category", "account")}


@pytest.fixture(autouse=True)
def _pending_translations():
    with pending_translations("billing", "lead"):
        yield
