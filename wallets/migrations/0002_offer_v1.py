from django.db import migrations

from wallets.offer_v1 import load_offer


def create_offer(apps, schema_editor):
    load_offer(apps.get_model("wallets", "Offer"))


class Migration(migrations.Migration):
    dependencies = [("wallets", "0001_initial")]
    operations = [migrations.RunPython(create_offer, migrations.RunPython.noop)]
