"""The system accounts (cash-in desk, fees, suspense) exist from the first migrate, so that
every process may look them up once and keep them (wallets.ledger.system_account)."""

from django.db import migrations

NAMES = {"cashin": "Cash-in desk", "fees": "Fees", "suspense": "Suspense"}


def create(apps, schema_editor):
    Account = apps.get_model("wallets", "Account")
    for kind, name in NAMES.items():
        Account.objects.get_or_create(code=f"system:{kind}", defaults={"kind": kind, "name": name})


class Migration(migrations.Migration):
    dependencies = [("wallets", "0006_sms_masked")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
