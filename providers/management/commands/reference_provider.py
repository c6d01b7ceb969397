from types import SimpleNamespace

from django.core.management.base import BaseCommand, CommandError

from providers import reference
from providers.models import Provider


class Command(BaseCommand):
    help = (
        "Run the reference OSMP provider (its own accounts and ledger; misbehaves on demand "
        "with --fault) on http://HOST:PORT/osmp. --attach SLUG points that provider at it."
    )

    def add_arguments(self, parser):
        reference.add_arguments(parser)
        parser.add_argument(
            "--attach",
            metavar="SLUG",
            help="make this provider an OSMP one at this server (e.g. hoster for the demo)",
        )

    def handle(self, *args, **options):
        url = f"http://{options['host']}:{options['port']}/osmp"
        if options["attach"]:
            updated = Provider.objects.filter(slug=options["attach"]).update(
                gateway=Provider.Gateway.OSMP,
                endpoint_url=url,
                login=options["login"],
                password=options["password"],
            )
            if not updated:
                raise CommandError(f"no provider {options['attach']!r}")
            self.stdout.write(f"{options['attach']} now pays through {url}")

        opts = SimpleNamespace(
            **{k: options[k] for k in ("host", "port", "db", "login", "password", "fault")}
        )
        try:
            reference.serve(opts, write=self.stdout.write)
        except OSError as exc:
            raise CommandError(
                f"cannot serve on {options['host']}:{options['port']}: {exc}"
            ) from None
