from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    name = "cards"
    verbose_name = _("Bank cards")
    default_auto_field = "django.db.models.BigAutoField"
