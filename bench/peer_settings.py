"""The transfer peers' own tiny settings: one database (PEER_DATABASE_URL) and one app.

PEER_APP=plain: the plain Django transfer (bench.plain); PEER_APP=hordak: django-hordak,
which is installed only in the benchmark's own venv (build/bench-hordak-venv).
"""

import os
from urllib.parse import urlparse

_url = urlparse(os.environ["PEER_DATABASE_URL"])
# The project's database options (config.settings), so that the peers are compared like
# with like: the same backend, parameters bound by the server, statements prepared.
DATABASES = {
    "default": {
        "ENGINE": "config.postgresql",
        "OPTIONS": {"server_side_binding": True, "prepare_threshold": 5},
        "NAME": _url.path.lstrip("/"),
        "USER": _url.username or "postgres",
        "PASSWORD": _url.password or "",
        "HOST": _url.hostname or "127.0.0.1",
        "PORT": _url.port or 5432,
    }
}
if os.environ.get("PEER_APP") == "hordak":
    INSTALLED_APPS = ["django.contrib.contenttypes", "mptt", "hordak"]
else:
    INSTALLED_APPS = ["bench.plain"]
SECRET_KEY = "bench-peer-only"  # noqa: S105 - no request is ever served
DEBUG = False
USE_TZ = True
TIME_ZONE = "Asia/Bishkek"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# hordak's exchange-rate backend knows no KGS; the currency changes nothing measured.
DEFAULT_CURRENCY = "EUR"
CURRENCIES = HORDAK_CURRENCIES = ["EUR"]
HORDAK_INTERNAL_CURRENCY = "EUR"
