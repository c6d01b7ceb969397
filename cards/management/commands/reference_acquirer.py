from types import SimpleNamespace

from django.core.management.base import BaseCommand, CommandError

from cards import reference


class Command(BaseCommand):
    help = (
        "Run the reference acquirer (its own test cards, holds and charges; misbehaves on "
        "demand with --fault) on http://HOST:PORT, the card holder's bank at /bank/."
    )

    def add_arguments(self, parser):
        reference.add_arguments(parser)

    def handle(self, *args, **options):
        opts = SimpleNamespace(**{k: options[k] for k in ("host", "port", "db", "fault")})
        try:
            reference.serve(opts, write=self.stdout.write)
        except OSError as exc:
            raise CommandError(
                f"cannot serve on {options['host']}:{options['port']}: {exc}"
            ) from None
