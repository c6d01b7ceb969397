import datetime

from django.core.management.base import BaseCommand, CommandError

from billing.registry import registry_rows, registry_write
from providers.models import Provider


class Command(BaseCommand):
    help = (
        "Write a provider's daily registry (CSV: txn_id, datetime, account, amount, "
        "payment_code) of the payments to it that succeeded, made on DATE (YYYY-MM-DD)."
    )

    def add_arguments(self, parser):
        parser.add_argument("provider", help="the provider's slug, e.g. hoster")
        parser.add_argument("date", help="YYYY-MM-DD")
        parser.add_argument("--out", help="write to this file (default: standard output)")

    def handle(self, *args, provider, date, out=None, **options):
        provider = _provider(provider)
        day = _day(date)
        rows = registry_rows(provider=provider, day=day)
        if out:
            with open(out, "w", newline="", encoding="utf-8") as handle:
                registry_write(rows, handle)
            self.stderr.write(f"{len(rows)} payments to {provider.slug} on {day} → {out}")
        else:
            registry_write(rows, self.stdout)


def _provider(slug: str) -> Provider:
    provider = Provider.objects.filter(slug=slug).first()
    if provider is None:
        raise CommandError(f"no provider {slug!r}")
    return provider


def _day(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date like 2026-01-31") from None
