from django.core.management.base import BaseCommand, CommandError

from cards.services import cards_housekeeping
from config.reconnect import ReconnectingCommand, run_every


class Command(ReconnectingCommand, BaseCommand):
    help = (
        "The cards sweep: expire linkings not confirmed in CARD_LINK_TTL, void the holds due "
        "to be voided, ask the acquirer again about top-ups left pending. Once, or every N "
        "seconds with --every. `manage.py housekeeping` runs it too."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every", type=float, default=0, help="repeat every SECONDS (0: once, the default)"
        )

    def long_running(self, options) -> bool:
        return bool(options.get("every"))

    def handle(self, *args, every, **options):
        if every < 0:
            raise CommandError("--every must be ≥ 0")

        def sweep():
            line = cards_housekeeping()
            if not every or not line.startswith("0 expired, 0 voided, 0 "):
                self.stdout.write(line)

        if not every:
            sweep()
            return
        try:
            run_every(sweep, every=every, what="cards_sweep")
        except KeyboardInterrupt:
            return
