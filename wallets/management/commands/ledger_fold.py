from django.core.management.base import BaseCommand

from wallets import ledger


class Command(BaseCommand):
    help = "Fold pending entries of system accounts into their balances."

    def handle(self, *args, **options):
        self.stdout.write(f"folded {ledger.fold_entries()} entries")
