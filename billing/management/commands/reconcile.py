from django.core.management.base import BaseCommand, CommandError

from billing.registry import RegistryError, reconcile, registry_read

from .registry import _day, _provider


class Command(BaseCommand):
    help = (
        "Compare a provider's registry (CSV: txn_id, datetime, account, amount[, payment_code]) "
        "with our payments to it: lists the missing, extra and mismatched ones; exits with "
        "status 1 on any difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("provider", help="the provider's slug, e.g. hoster")
        parser.add_argument("file", help="the provider's registry")
        parser.add_argument(
            "--date",
            action="append",
            default=[],
            help="also compare this day (YYYY-MM-DD) even if the registry has no row for it",
        )

    def handle(self, *args, provider, file, date, **options):
        provider = _provider(provider)
        days = [_day(d) for d in date]
        try:
            with open(file, encoding="utf-8") as handle:
                rows = registry_read(handle.read())
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        except (RegistryError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: {exc}") from None
        result = reconcile(provider=provider, rows=rows, days=days)
        period = ", ".join(str(d) for d in result.days) or "no day (an empty registry; --date)"
        self.stdout.write(
            f"{provider.slug}, {period}: {result.matched} matched, {len(result.missing)} "
            f"missing, {len(result.extra)} extra, {len(result.mismatched)} mismatched"
        )
        for line in result.lines():
            self.stdout.write(line)
        if not result.ok:
            differences = len(result.missing) + len(result.extra) + len(result.mismatched)
            raise CommandError(f"{differences} difference(s) with {file}", returncode=1)
