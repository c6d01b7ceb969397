from django.core.management.base import BaseCommand, CommandError

from wallets.health import ledger_check_record


class Command(BaseCommand):
    help = (
        "Verify the ledger: balances sum to 0, no wallet below 0, balances equal their "
        "transfers. The result is what /healthz/ledger answers (the housekeeping loop runs "
        "this check every few minutes)."
    )

    def handle(self, *args, **options):
        problems = ledger_check_record()
        if problems:
            for problem in problems:
                self.stderr.write(str(problem))
            raise CommandError(f"ledger check failed: {len(problems)} problem(s)")
        self.stdout.write(self.style.SUCCESS("ledger OK"))
