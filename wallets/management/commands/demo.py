from django.core.management.base import BaseCommand
from django.db import transaction

from providers import demo
from providers.models import Category, Provider
from wallets import services
from wallets.models import Account, Offer, User
from wallets.money import format_som
from wallets.phones import format_number

DEMO_PHONE = "+996555123456"
DEMO_PASSWORD = "kapchyk2026"
DEMO_BALANCE = 5_000_00


class Command(BaseCommand):
    help = (
        "Load the demo catalogue and create the demo wallet (idempotent), then print how to "
        "sign in. Development and tests only: a production database gets neither."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            demo.load(Category, Provider, Account)
            user = User.objects.filter(phone=DEMO_PHONE).first()
            if user is None:
                user = User.objects.create_user(
                    DEMO_PHONE,
                    DEMO_PASSWORD,
                    email="demo@kapchyk.kg",
                    full_name="Демо Колдонуучу",
                    phone_verified=True,
                )
            offer = Offer.objects.current()
            if offer and user.offer_version_id is None:
                services.offer_accept(user=user, offer=offer)
            wallet = services.wallet_open(user=user)
        services.cashin_create(
            wallet=wallet,
            amount=DEMO_BALANCE,
            reason="demo top-up",
            created_by=None,
            key="cashin:demo:initial",
        )
        wallet.account.refresh_from_db()
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Demo wallet: {format_number(DEMO_PHONE)}\n  Password:    {DEMO_PASSWORD}\n  Balance:     {format_som(wallet.account.balance)}\n"
                "  Open http://127.0.0.1:8000/ and type the number, then «Войти».\n"
            )
        )
