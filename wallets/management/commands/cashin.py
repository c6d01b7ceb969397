from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from wallets import ledger, operations, services
from wallets.audit import COMMAND
from wallets.models import User, Wallet
from wallets.money import format_som, parse_som
from wallets.phones import normalize_wallet_number


class Command(BaseCommand):
    help = (
        "Credit a wallet from the cash-in desk: cashin NUMBER AMOUNT_SOM --reason TEXT [--by PHONE]"
    )

    def add_arguments(self, parser):
        parser.add_argument("number")
        parser.add_argument("amount", help="som, e.g. 150 or 150.50")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--by", help="the staff member's phone number")
        parser.add_argument("--key", help="idempotency key: the same key credits once")

    def handle(self, *args, number, amount, reason, by=None, key=None, **options):
        try:
            e164 = normalize_wallet_number(number)
            tyiyn = parse_som(amount)
            staff = User.objects.get(phone=normalize_wallet_number(by)) if by else None
        except (ValidationError, User.DoesNotExist) as exc:
            raise CommandError(exc.messages[0] if hasattr(exc, "messages") else str(exc)) from exc
        wallet = Wallet.objects.with_account().filter(number=e164).first()
        if wallet is None:
            raise CommandError(f"no wallet {e164}")
        try:
            cashin = services.cashin_create(
                wallet=wallet,
                amount=tyiyn,
                reason=reason,
                created_by=staff,
                key=f"cashin:cmd:{key}" if key else None,
                origin=COMMAND,
            )
        except ledger.LimitExceeded as exc:
            refusal = operations.limit_exceeded(limit=exc.limit, left=exc.left)
            raise CommandError(refusal.messages[0]) from None
        wallet.account.refresh_from_db()
        self.stdout.write(
            f"credited {format_som(cashin.amount)} to {wallet.number}; "
            f"balance {format_som(wallet.account.balance)}"
        )
