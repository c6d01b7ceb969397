from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WalletsConfig(AppConfig):
    name = "wallets"
    verbose_name = _("Wallets and money")

    def ready(self):
        from . import checks  # noqa: F401  registers the production checks
