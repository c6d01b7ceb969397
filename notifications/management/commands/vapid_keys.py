from django.core.management.base import BaseCommand

from notifications.push import vapid_keys_new


class Command(BaseCommand):
    help = "Print a new VAPID key pair for Web Push, as lines to put in the environment."

    def handle(self, *args, **options):
        public, private = vapid_keys_new()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}\nVAPID_PRIVATE_KEY={private}\n")
