from django.core.management.base import BaseCommand

from wallets.sms import outbox_redact


class Command(BaseCommand):
    help = "Mask the codes and PINs of outbox messages older than SMS_OUTBOX_SECRET_TTL."

    def handle(self, *args, **options):
        self.stdout.write(f"masked {outbox_redact()} messages")
