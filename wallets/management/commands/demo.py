from django.core.management.base import BaseCommand
from django.db import transaction

from providers import demo
from providers.models import Category, Provider
from qr import demo as qr_demo
from wallets import services
from wallets.models import Account, Offer, User
from wallets.money import format_som
from wallets.phones import format_number

DEMO_PHONE = "+996555123456"
DEMO_PASSWORD = "kapchyk2026"
DEMO_BALANCE = 5_000_00
# A second wallet to send transfers to (and to sign in as, to see them arrive).
FRIEND_PHONE = "+996555765432"
FRIEND_NAME = "Айгуль Бекова"


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
            cashier = User.objects.filter(phone=qr_demo.CASHIER_PHONE).first()
            if cashier is None:
                cashier = User.objects.create_user(
                    qr_demo.CASHIER_PHONE,
                    DEMO_PASSWORD,
                    full_name="Кассир Кафе Кент",
                    phone_verified=True,
                )
            if offer and cashier.offer_version_id is None:
                services.offer_accept(user=cashier, offer=offer)
            merchant = qr_demo.load(cashier=services.wallet_open(user=cashier))
            friend = User.objects.filter(phone=FRIEND_PHONE).first()
            if friend is None:
                friend = User.objects.create_user(
                    FRIEND_PHONE,
                    DEMO_PASSWORD,
                    full_name=FRIEND_NAME,
                    phone_verified=True,
                    language="ky",
                )
            if offer and friend.offer_version_id is None:
                services.offer_accept(user=friend, offer=offer)
            services.wallet_open(user=friend)
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
                f"  Send a transfer to: {format_number(FRIEND_PHONE)} ({FRIEND_NAME}; "
                "same password)\n"
                "  Open http://127.0.0.1:8000/ and type the number, then «Войти».\n"
                f"\n  Merchant:    {merchant.name_ru} (MCC {merchant.mcc}), QR payments\n"
                f"  Cashier:     {format_number(qr_demo.CASHIER_PHONE)}, the same password:\n"
                f"               its cabinet links to the cashier page /qr/cashier/{merchant.pk}/\n"
            )
        )
