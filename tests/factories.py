import factory

from wallets import ledger, services
from wallets.models import Account, User

PASSWORD = "secret123pass"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.Sequence(lambda n: f"+99655{n:07d}")
    email = factory.LazyAttribute(lambda u: f"u{u.phone[-7:]}@example.kg")
    phone_verified = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_wallet(*, balance: int = 0, user: User | None = None):
    """A verified user with a wallet holding `balance` tyiyn (credited through the ledger)."""
    user = user or UserFactory()
    wallet = services.wallet_open(user=user)
    if balance:
        services.cashin_create(wallet=wallet, amount=balance, reason="test", created_by=None)
        wallet.account.refresh_from_db()
    return wallet


def system(kind):
    return ledger.system_account(kind)


__all__ = ["Account", "PASSWORD", "UserFactory", "make_wallet", "system"]
