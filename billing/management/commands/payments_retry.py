from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from billing.models import Payment
from billing.services import payments_sweep
from config.reconnect import ReconnectingCommand, run_every


class Command(ReconnectingCommand, BaseCommand):
    help = (
        "Attempt every pending payment that is due: retries after their backoff, payments a "
        "crash left unsent, attempts whose worker died. Once, or every N seconds with --every "
        "(run it from cron or beside db_worker); a repeating sweep survives database outages "
        "(it reconnects with backoff). `manage.py housekeeping` runs this sweep too."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, default=0, help="repeat every SECONDS (0: once, the default)"
        )
        parser.add_argument("--limit", type=int, default=500, help="at most N payments a sweep")

    def long_running(self, options) -> bool:
        return bool(options.get("every"))

    def handle(self, *args, every, limit, **options):
        if every < 0 or limit < 1:
            raise CommandError("--every must be ≥ 0 and --limit ≥ 1")

        def sweep():
            done = payments_sweep(limit=limit)
            if done or not every:
                counts = Counter(p.status for p in done)
                waiting = Payment.objects.needing_attention().count()
                self.stdout.write(
                    f"{len(done)} attempted: "
                    + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
                    + (f"; {waiting} need attention (admin)" if waiting else "")
                )

        if not every:
            sweep()
            return
        try:
            run_every(sweep, every=every, what="payments_retry")
        except KeyboardInterrupt:
            return
