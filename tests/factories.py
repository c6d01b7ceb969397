import factory

from wallets import ledger, limits, services
from wallets.models import Account, User, Wallet

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


def make_wallet(*, balance: int = 0, user: User | None = None, level=None):
    """A verified user with a wallet holding `balance` tyiyn (credited through the ledger).

    At `level` (a wallets.Level, set once the balance is there), or without one — no
    limits — so that tests of other things do not meet the base level's limits
    (wallet_open's own start at the base level is tested with the limits)."""
    user = user or UserFactory()
    wallet = services.wallet_open(user=user)
    for step in ("credit", "level"):
        value = level if step == "level" else None
        Wallet.objects.filter(pk=wallet.pk).update(level=value)
        Account.objects.filter(pk=wallet.account_id).update(**limits.limits_of(value))
        if step == "credit" and balance:
            services.cashin_create(wallet=wallet, amount=balance, reason="test", created_by=None)
    wallet.refresh_from_db()
    wallet.account.refresh_from_db()
    return wallet


def system(kind):
    """The system account, its row as it stands now (the ledger keeps one per process)."""
    account = ledger.system_account(kind)
    account.refresh_from_db()
    return account


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "providers.Category"

    slug = factory.Sequence(lambda n: f"cat-{n}")
    name_ru = factory.Sequence(lambda n: f"Категория {n}")
    name_ky = factory.Sequence(lambda n: f"Категория {n} ky")


class ProviderFactory(factory.django.DjangoModelFactory):
    """A provider with a ledger account; the account rule is 14 digits unless told."""

    class Meta:
        model = "providers.Provider"

    category = factory.SubFactory(CategoryFactory)
    slug = factory.Sequence(lambda n: f"prov-{n}")
    name_ru = factory.Sequence(lambda n: f"Поставщик {n}")
    name_ky = factory.Sequence(lambda n: f"Берүүчү {n}")
    account_label_ru = "Лицевой счёт"
    account_label_ky = "Жеке эсеп"
    account_hint_ru = "14 цифр"
    account_hint_ky = "14 сан"
    account_regex = r"\d{14}"
    account = factory.LazyAttribute(
        lambda p: ledger.open_account(kind="provider", code=f"provider:{p.slug}", name=p.name_ru)
    )


def make_payment(*, wallet=None, provider=None, account="01234567890123", amount=100_00, **kw):
    """A payment made through billing.services (the wallet is topped up to cover it)."""
    from billing import services as billing

    provider = provider or ProviderFactory()
    wallet = wallet or make_wallet(balance=amount + provider.fee_for(amount))
    token = billing.payment_token_new(wallet=wallet)
    return billing.payment_create(
        wallet=wallet, provider=provider, account=account, amount=amount, token=token, **kw
    )


__all__ = [
    "PASSWORD",
    "Account",
    "CategoryFactory",
    "ProviderFactory",
    "UserFactory",
    "make_payment",
    "make_wallet",
    "system",
]
