from django.db import migrations


def load_demo(apps, schema_editor):
    from providers import demo

    demo.load(
        apps.get_model("providers", "Category"),
        apps.get_model("providers", "Provider"),
        apps.get_model("wallets", "Account"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("providers", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(load_demo, migrations.RunPython.noop),
    ]
