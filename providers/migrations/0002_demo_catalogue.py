from django.db import migrations

# This migration used to load the demo catalogue, so every production `migrate` installed
# the demo providers. The demo now comes from `manage.py demo` (make run, the tests' fixtures).
# It stays, doing nothing, so that the databases that applied it keep a valid history
# (0003 depends on it); the rows it once loaded are left alone: they may have payments.


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0001_initial"),
    ]

    operations = []
