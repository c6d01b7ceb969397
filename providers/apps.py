from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = _("Service providers")

    def ready(self):
        from .search import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="providers.fold")
