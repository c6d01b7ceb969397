"""The three identification levels (product rules, modelled on the O!Деньги table), every
wallet at «Базовый» with its limits on the wallet's ledger account, and the staff group
«identification» (wallets.staff_groups)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from wallets import staff_groups

SOM = 100
LEVELS = [
    {
        "order": 1,
        "name_ru": "Базовый",
        "name_ky": "Негизги",
        "requirements_ru": "Номер подтверждён кодом из SMS на сайте или регистрация в *900# "
        "с именем и персональным ИНН.",
        "requirements_ky": "Номер сайтта SMS-код менен тастыкталган же *900# аркылуу аты-жөнү "
        "жана жеке ИНН менен катталган.",
        "limit_balance": 30_000 * SOM,
        "limit_operation": 30_000 * SOM,
        "limit_out_month": 200_000 * SOM,
    },
    {
        "order": 2,
        "name_ru": "Упрощённый",
        "name_ky": "Жөнөкөйлөтүлгөн",
        "requirements_ru": "Удалённая идентификация: фото паспорта и видеозвонок с оператором.",
        "requirements_ky": "Аралыктан идентификация: паспорттун сүрөтү жана оператор менен "
        "видеочалуу.",
        "limit_balance": 200_000 * SOM,
        "limit_operation": 100_000 * SOM,
        "limit_out_month": 400_000 * SOM,
    },
    {
        "order": 3,
        "name_ru": "Полный",
        "name_ky": "Толук",
        "requirements_ru": "Лично в офисе Kapchyk с паспортом.",
        "requirements_ky": "Kapchyk кеңсесинде паспорт менен жеке өзүңүз.",
        "limit_balance": 800_000 * SOM,
        "limit_operation": 100_000 * SOM,
        "limit_out_month": 1_000_000 * SOM,
    },
]
NAMES = ("operation", "out_day", "out_month", "in_month", "balance")


def create_levels(apps, schema_editor):
    Level = apps.get_model("wallets", "Level")
    Wallet = apps.get_model("wallets", "Wallet")
    Account = apps.get_model("wallets", "Account")
    for values in LEVELS:
        Level.objects.get_or_create(order=values["order"], defaults=values)
    base = Level.objects.order_by("order").first()
    Wallet.objects.filter(level__isnull=True).update(level=base)
    for level in Level.objects.all():
        Account.objects.filter(wallet__level=level).update(
            **{f"limit_{name}": getattr(level, f"limit_{name}") for name in NAMES}
        )
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    staff_groups.load(
        apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"), ["identification"]
    )


def remove_levels(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="identification").delete()
    apps.get_model("wallets", "Wallet").objects.update(level=None)
    apps.get_model("wallets", "LevelChange").objects.all().delete()
    apps.get_model("wallets", "Level").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("wallets", "0009_levels")]

    operations = [migrations.RunPython(create_levels, remove_levels)]
