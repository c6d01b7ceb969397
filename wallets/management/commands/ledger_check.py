from django.core.management.base import BaseCommand, CommandError

from wallets import ledger


class Command(BaseCommand):
    help = (
        "Verify the ledger: balances sum to 0, no wallet below 0, balances equal their transfers."
    )

    def handle(self, *args, **options):
        problems = ledger.check()
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(f"ledger check failed: {len(problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS("ledger OK"))
