"""Project checks for production (`manage.py check --deploy`, with DJANGO_DEBUG=false).

A limit counted in one process's memory is no limit once there are two workers, tasks run
inside the web request are lost with it, and a console SMS backend writes every code and
PIN into the server's log. Each is an Error, so a deploy that would break a promise stops.
"""

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}
# Caches meant to be per process: what they hold is derived from the code alone.
PER_PROCESS_ALIASES = {"fragments"}
IN_PROCESS_TASKS = {
    "django.tasks.backends.immediate.ImmediateBackend",
    "django.tasks.backends.dummy.DummyBackend",
}


@checks.register(checks.Tags.security, "kapchyk", deploy=True)
def production_settings(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    errors = []
    for alias, cache in settings.CACHES.items():
        if cache["BACKEND"] in PER_PROCESS_CACHES and alias not in PER_PROCESS_ALIASES:
            errors.append(
                checks.Error(
                    f"The cache '{alias}' ({cache['BACKEND']}) lives in each process's memory: "
                    "rate limits and SMS caps would count per worker and reset on restart.",
                    hint="Set CACHE_URL to a shared cache, e.g. redis://127.0.0.1:6379/0 "
                    "or dbcache://kapchyk_cache (after manage.py createcachetable).",
                    id="kapchyk.E001",
                )
            )
    tasks_backend = settings.TASKS["default"]["BACKEND"]
    if tasks_backend in IN_PROCESS_TASKS:
        errors.append(
            checks.Error(
                f"The task backend {tasks_backend} runs tasks inside the web request (or not "
                "at all): a task dies with its worker and nothing retries it.",
                hint="Set TASKS_BACKEND=django_tasks_db.DatabaseBackend and run "
                "manage.py db_worker.",
                id="kapchyk.E002",
            )
        )
    try:
        backend = import_string(settings.SMS_BACKEND)
    except ImportError:
        errors.append(
            checks.Error(
                f"SMS_BACKEND {settings.SMS_BACKEND!r} cannot be imported.", id="kapchyk.E003"
            )
        )
    else:
        if getattr(backend, "writes_to_console", False):
            errors.append(
                checks.Error(
                    f"The SMS backend {settings.SMS_BACKEND} writes message texts (sign-in "
                    "codes, PINs, payment codes) to the console, that is to the server's log.",
                    hint="Set SMS_BACKEND=wallets.sms.HttpGatewayBackend (with SMS_GATEWAY_URL) "
                    "or wallets.sms.OutboxBackend.",
                    id="kapchyk.E003",
                )
            )
        if getattr(backend, "needs_gateway_url", False) and not settings.SMS_GATEWAY_URL:
            errors.append(
                checks.Error(
                    f"The SMS backend {settings.SMS_BACKEND} needs SMS_GATEWAY_URL.",
                    id="kapchyk.E004",
                )
            )
    return errors
