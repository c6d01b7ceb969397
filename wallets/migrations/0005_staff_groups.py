"""The staff groups «providers», «cash desk», «refunds» and «support» (wallets.staff_groups)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from wallets import staff_groups


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations (post_migrate): create them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    staff_groups.load(
        apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), staff_groups.FIRST
    )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=staff_groups.FIRST).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wallets", "0004_auditlog"),
        ("billing", "0002_payment_staff_permissions"),
        ("providers", "0003_category_ussd_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
