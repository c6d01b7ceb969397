"""Kapchyk settings: everything comes from the environment (.env is read when present).

Development defaults are safe to run locally (SQLite, console SMS, DEBUG on).
Production (DJANGO_DEBUG=false) refuses to start without SECRET_KEY and ALLOWED_HOSTS.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
        ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(
            "Production settings need SECRET_KEY and ALLOWED_HOSTS in the environment."
        ) from exc
    if not ALLOWED_HOSTS or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set and SECRET_KEY must be long.")

INSTALLED_APPS = [
    "config.apps.KapchykAdminConfig",  # django.contrib.admin, staff with a second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_tasks_db",
    "wallets",
    "providers",
    "billing",
    "ussd",
    "qr",
    "notifications",
    "transfers",
    "cards",
]

MIDDLEWARE = [
    # First, so that every log record of the request carries its id.
    "wallets.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A NUL byte in the path, query, form or cookies: a clear 400 before any view.
    "wallets.middleware.NulBytesRefusedMiddleware",
    # Signed-in pages: Cache-Control: no-store.
    "wallets.middleware.PrivatePagesNotStoredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "wallets.middleware.RateLimitedMiddleware",
    "wallets.middleware.SessionRefreshMiddleware",
]

# `make bench` serves its benchmark-only URLconf (bench.urls: the product's + a floor view).
ROOT_URLCONF = env.str("ROOT_URLCONF", default="config.urls")
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wallets.context_processors.kapchyk",
                "notifications.context_processors.bell",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections in production (checked before reuse: a database restart costs one
# reconnect, not an error); one per request on the embedded default.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if DEBUG else 60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database host that does not answer (not one that refuses) fails a connection in
    # seconds, not the OS's minutes: long-running commands then retry with backoff.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 10)
    # Prepared statements: parameters bound by the server, and a statement a connection has
    # run 5 times prepared, so that PostgreSQL stops planning again the same few statements
    # of every page and payment (planning costs more than running them). Persistent
    # connections keep what they prepared. Off (DATABASE_PREPARED=false) behind a pooler in
    # transaction mode, which cannot keep a prepared statement with its connection.
    if env.bool("DATABASE_PREPARED", default=True):
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
        # Django's backend, but an int too large for its field's type is sent as a bigint,
        # not cut to 32 bits (config/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "config.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "wallets.User"

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "wallets.validators.LatinLetterAndDigitValidator"},
]

LANGUAGE_CODE = "ru"
LANGUAGES = [("ky", _("Kyrgyz")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Bishkek"
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "kapchyk_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage",
        )
    },
}
WHITENOISE_MAX_AGE = 365 * 24 * 3600 if not DEBUG else 0

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "wallets:home"
LOGOUT_REDIRECT_URL = "account_login"

# --- Cache: rate limits (allauth's, ours) and the SMS caps live here ---
# The embedded default is per-process memory. Production (DJANGO_DEBUG=false) needs one cache
# shared by every process and machine, or «5 wrong passwords» becomes 5 per worker and a
# restart clears every lock: Redis by default (CACHE_URL=redis://host:6379/0), or the
# database (CACHE_URL=dbcache://kapchyk_cache after `manage.py createcachetable`).
# `check --deploy` refuses a per-process cache (wallets.checks).
CACHES = {
    "default": env.cache_url(
        "CACHE_URL", default="locmemcache://kapchyk" if DEBUG else "redis://127.0.0.1:6379/0"
    )
}
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    # Django's own Redis client (the `redis` package), not django-redis; a Redis that does not
    # answer fails the request within a second or two instead of hanging the worker.
    CACHES["default"]["BACKEND"] = "django.core.cache.backends.redis.RedisCache"
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"socket_connect_timeout": 2, "socket_timeout": 2}
    )
CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="kapchyk")
# Rendered page fragments live in each process's memory (`{% cache … using="fragments" %}`):
# the chrome of templates/base.html (what depends only on the language and on whether someone
# is signed in: it cannot go stale while the code it came from runs) and the cabinet's recent
# operations (keyed by the version of the wallet's history: a new version is a new key).
# Nothing in it can be stale under its key, so a request pays no round trip to Redis for it.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "fragments",
    "TIMEOUT": None,
    "OPTIONS": {"MAX_ENTRIES": 3000},
}

# --- Security: sessions, cookies, headers, Content Security Policy ---
# A session ends after SESSION_COOKIE_AGE seconds without a request (sliding: a request
# pushes its end forward, saving the session at most once a SESSION_REFRESH_SECONDS,
# wallets.middleware.SessionRefreshMiddleware: a page view is not a durable write).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=15 * 60)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = env.int("SESSION_REFRESH_SECONDS", default=60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True  # no script of ours reads it; forms carry the token
CSRF_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Enforced in development too, so that a page breaking it shows up before production.
# No 'unsafe-inline': inline <script>/<style> need the request's nonce ({% csp_nonce_attr %},
# as the admin does); inline event handlers (onclick=...) and style="" attributes are blocked.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if not DEBUG:
    # Over plain http (a local production-like run) browsers drop Secure cookies:
    # COOKIES_SECURE=false turns Secure and the __Host- names off. Never in real production.
    COOKIES_SECURE = env.bool("COOKIES_SECURE", default=True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = COOKIES_SECURE
    if COOKIES_SECURE:
        # __Host-: the browser keeps the cookie only if Secure, Path=/ and no Domain, so a
        # sibling subdomain or a plain-http page cannot plant or overwrite it.
        SESSION_COOKIE_NAME = "__Host-sessionid"
        CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain http.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^healthz/ledger$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

ADMIN_URL = env.str("ADMIN_URL", default="admin/")

# --- Background tasks (django.tasks) ---
# Embedded default: run tasks in-process at once. Production (DJANGO_DEBUG=false): the
# database queue, worked by `manage.py db_worker`.
TASKS = {
    "default": {
        "BACKEND": env.str(
            "TASKS_BACKEND",
            default="django.tasks.backends.immediate.ImmediateBackend"
            if DEBUG
            else "django_tasks_db.DatabaseBackend",
        ),
    }
}

# Payments through a provider's gateway (billing.services.payment_attempt): the pause after
# a failed attempt doubles from PAYMENT_RETRY_DELAY up to PAYMENT_RETRY_MAX_DELAY seconds;
# a claimed attempt is another worker's after the provider's timeout + PAYMENT_LEASE s.
PAYMENT_RETRY_DELAY = env.float("PAYMENT_RETRY_DELAY", default=15.0)
PAYMENT_RETRY_MAX_DELAY = env.float("PAYMENT_RETRY_MAX_DELAY", default=900.0)
PAYMENT_LEASE = env.float("PAYMENT_LEASE", default=30.0)
# A pending payment still not settled this many seconds after its next attempt was due is
# moved to «needs attention» by the housekeeping loop (billing.overdue).
PAYMENT_OVERDUE_ATTENTION = env.float("PAYMENT_OVERDUE_ATTENTION", default=300.0)

# --- Bank cards (cards/): the acquirer (cards.gateways; the reference one in development),
# its timeout in seconds; a linking not confirmed in CARD_LINK_TTL seconds expires; a top-up
# without an answer is asked about up to CARD_TOPUP_RETRY_BUDGET times, then needs staff.
ACQUIRER_URL = env.str("ACQUIRER_URL", default="http://127.0.0.1:8310")
ACQUIRER_TIMEOUT = env.float("ACQUIRER_TIMEOUT", default=10.0)
CARD_LINK_TTL = env.float("CARD_LINK_TTL", default=48 * 3600.0)
CARD_TOPUP_RETRY_BUDGET = env.int("CARD_TOPUP_RETRY_BUDGET", default=5)
CARD_TOPUP_MIN = env.int("CARD_TOPUP_MIN", default=10_00)  # tyiyn
CARD_TOPUP_MAX = env.int("CARD_TOPUP_MAX", default=100_000_00)

# --- Housekeeping (`manage.py housekeeping`, config/housekeeping.py): how often each job
# runs, in seconds. The payments sweep and the overdue flag run every --every seconds.
HOUSEKEEPING_LEDGER_FOLD = env.float("HOUSEKEEPING_LEDGER_FOLD", default=60.0)
HOUSEKEEPING_LEDGER_CHECK = env.float("HOUSEKEEPING_LEDGER_CHECK", default=300.0)
HOUSEKEEPING_CLEARSESSIONS = env.float("HOUSEKEEPING_CLEARSESSIONS", default=3600.0)
HOUSEKEEPING_USSD_PURGE = env.float("HOUSEKEEPING_USSD_PURGE", default=600.0)
# /healthz/ledger answers 503 when the last ledger check found a problem, or when there
# is none younger than this (the housekeeping loop is not running).
LEDGER_CHECK_MAX_AGE = env.float("LEDGER_CHECK_MAX_AGE", default=3 * HOUSEKEEPING_LEDGER_CHECK + 60)

# --- Outbound HTTP (config/http.py: gateways, SMS, push) ---
# Private, loopback and link-local addresses are refused unless allowed: development and the
# tests call the reference servers on 127.0.0.1; production calls public hosts only.
OUTBOUND_ALLOW_PRIVATE = env.bool("OUTBOUND_ALLOW_PRIVATE", default=DEBUG)

# --- SMS (pluggable like email backends) ---
# Embedded default: the console and the outbox. Production (DJANGO_DEBUG=false) never prints
# texts (codes, PINs): the HTTP gateway when SMS_GATEWAY_URL is set, else the outbox only
# (read in the admin). `check --deploy` refuses a console backend (wallets.checks).
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_BACKEND = env.str(
    "SMS_BACKEND",
    default="wallets.sms.ConsoleAndOutboxBackend"
    if DEBUG
    else "wallets.sms.HttpGatewayBackend"
    if SMS_GATEWAY_URL
    else "wallets.sms.OutboxBackend",
)
SMS_GATEWAY_USER = env.str("SMS_GATEWAY_USER", default="")
SMS_GATEWAY_PASSWORD = env.str("SMS_GATEWAY_PASSWORD", default="")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=5.0)
# Codes and PINs stay readable in the outbox this many seconds (where the outbox is how they
# are read); a gateway's copy is masked at once (wallets.sms).
SMS_OUTBOX_SECRET_TTL = env.int("SMS_OUTBOX_SECRET_TTL", default=15 * 60)
# Caps on the SMS a visitor can have sent (sign-up and sign-in codes), counted in the cache:
# per destination number a day, per client address an hour (across numbers), and an hourly
# budget for all SMS together (past it: an ERROR log line, and no more visitor codes).
SMS_CAP_PER_NUMBER_DAY = env.int("SMS_CAP_PER_NUMBER_DAY", default=10)
SMS_CAP_PER_IP_HOUR = env.int("SMS_CAP_PER_IP_HOUR", default=10)
SMS_BUDGET_PER_HOUR = env.int("SMS_BUDGET_PER_HOUR", default=1000)

# --- Web Push (notifications/push.py): the installed app's notifications ---
# VAPID keys (`manage.py vapid_keys` prints a new pair): the private key as base64url of its
# 32 bytes, the public one as base64url of its uncompressed point; the subject is a mailto:
# or https: contact for the push services. Without both keys Web Push is off.
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = env.str("VAPID_PRIVATE_KEY", default="")
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="mailto:support@kapchyk.kg")
PUSH_TIMEOUT = env.float("PUSH_TIMEOUT", default=5.0)
# How long a push service keeps a message for a phone that is offline, in seconds.
PUSH_TTL = env.int("PUSH_TTL", default=24 * 3600)

# --- USSD *900# gateway (ussd/): only the operator's gateway may call /ussd/ ---
# The shared secret (header X-USSD-Secret or a `secret` parameter) and/or the gateway's
# addresses (IPs or networks). Production has no default secret: with neither set, 403.
USSD_SHARED_SECRET = env.str("USSD_SHARED_SECRET", default="dev-ussd-secret" if DEBUG else "")
USSD_ALLOWED_IPS = env.list("USSD_ALLOWED_IPS", default=[])
# Where the public offer is published, as read out on the registration screen.
USSD_OFFER_URL = env.str("USSD_OFFER_URL", default="kapchyk.kg/offer")

# --- ELQR payment QR codes (qr/) ---
# Our provider id in field 32 of the codes we issue: a code with it is ours to pay.
ELQR_PROVIDER_ID = env.str("ELQR_PROVIDER_ID", default="kapchyk.kg")
# The https address our links open in a browser: <router>#<payload>.
ELQR_ROUTER_URL = env.str("ELQR_ROUTER_URL", default="https://qr.kapchyk.kg/")
# Uploaded photos of codes: refused above this many bytes, and above this many pixels
# (checked from the header before decoding, so a decompression bomb is never unpacked).
QR_IMAGE_MAX_BYTES = env.int("QR_IMAGE_MAX_BYTES", default=10 * 1024 * 1024)
QR_IMAGE_MAX_PIXELS = env.int("QR_IMAGE_MAX_PIXELS", default=50_000_000)

# --- allauth: phone-first sign-in ---
ACCOUNT_ADAPTER = "wallets.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"phone"}
ACCOUNT_SIGNUP_FIELDS = ["phone*", "email*", "password1*", "password2*"]
ACCOUNT_PHONE_VERIFICATION_ENABLED = True
# The email is a contact, never the key to a wallet: a new address is used only once its
# link is opened (a signed-in owner changes it with the password, wallets.auth_views), and
# the owner gets an SMS when it changes.
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False  # mail scanners open links; a person presses «Confirm»
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_EMAIL_CONFIRMATION_AUTHENTICATED_REDIRECT_URL = "account_email"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_LOGOUT_ON_GET = False
# A wallet's session ends with the browser; no "remember me" box.
ACCOUNT_SESSION_REMEMBER = False
# The SMS code that proves the number: 6 digits, 3 tries, 2 resends; the number itself
# cannot be changed at that step (it is the wallet's number).
ACCOUNT_PHONE_VERIFICATION_CODE_FORMAT = {"length": 6, "numeric": True, "dashed": False}
ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS = 3
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_RESEND = True
ACCOUNT_PHONE_VERIFICATION_SUPPORTS_CHANGE = False
# Wallets are told apart by number; one email may serve a family's several wallets.
# Password reset is by a code sent by SMS to the wallet's number (wallets.auth_views), never
# by an email link alone: 3 wrong codes end it, a code lasts PASSWORD_RESET_CODE_TIMEOUT s.
ACCOUNT_UNIQUE_EMAIL = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Kapchyk] "
ACCOUNT_PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_PASSWORD_RESET_BY_CODE_TIMEOUT = env.int("PASSWORD_RESET_CODE_TIMEOUT", default=600)
ACCOUNT_FORMS = {"reset_password_from_key": "wallets.auth_forms.ResetPasswordKeyForm"}
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/key",
    "login": "30/m/ip",
    "signup": "20/h/ip",
    "verify_phone": "3/m/key,10/h/ip",
    "change_phone": "1/m/user",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
}
# Rate of the phone-first step (our own, the same shape as allauth's).
KAPCHYK_PHONE_STEP_RATE = env.str("KAPCHYK_PHONE_STEP_RATE", default="20/m/ip")
# Quick sign-in by PIN on a trusted device (wallets.devices): challenges and tries per address.
KAPCHYK_PIN_SIGN_IN_RATE = env.str("KAPCHYK_PIN_SIGN_IN_RATE", default="20/m/ip")
# SMS codes that let a signed-in user set up an authenticator app (config/staff.py).
KAPCHYK_TOTP_SMS_RATE = "3/10m/key"

# --- Staff: the admin (ADMIN_URL) needs a second factor, an authenticator app (TOTP) ---
# Recovery codes for a lost phone. See config/staff.py and the README's «Staff».
MFA_ADAPTER = "config.staff.MFAAdapter"
# Passkeys (WebAuthn, fido2): a wallet owner signs in with one instead of the number and
# password; they never stand in for the staff's authenticator app (config/staff.py).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
# The number was proven by SMS; the e-mail is only a contact (see ACCOUNT_* above).
MFA_ALLOW_UNVERIFIED_EMAIL = True
# http://127.0.0.1 in development and the browser tests; https on a real server.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_TOTP_ISSUER = "Kapchyk"
MFA_FORMS = {
    "authenticate": "config.staff.AuthenticateForm",
    "reauthenticate": "config.staff.ReauthenticateForm",
    "activate_totp": "config.staff.ActivateTOTPForm",
}
# Client addresses (rate limits, the audit log): behind N reverse proxies that append to
# X-Forwarded-For, set TRUSTED_PROXY_COUNT=N; 0 uses the connection's address.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- E-mail (Django 6.1 MAILERS): the console in development, SMTP in production ---
# SMTP is set by EMAIL_HOST (default localhost, a local MTA), EMAIL_PORT (25; 587 with
# EMAIL_USE_TLS, 465 with EMAIL_USE_SSL), EMAIL_HOST_USER / EMAIL_HOST_PASSWORD and
# EMAIL_TIMEOUT seconds. Letters leave after the commit; a failed delivery is logged, never
# a 500 (wallets.adapter.AccountAdapter.send_mail).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND}}
if EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend":
    MAILERS["default"]["OPTIONS"] = {
        "host": env.str("EMAIL_HOST", default="localhost"),
        "port": env.int("EMAIL_PORT", default=None),
        "username": env.str("EMAIL_HOST_USER", default=""),
        "password": env.str("EMAIL_HOST_PASSWORD", default=""),
        "use_tls": env.bool("EMAIL_USE_TLS", default=False),
        "use_ssl": env.bool("EMAIL_USE_SSL", default=False),
        "timeout": env.float("EMAIL_TIMEOUT", default=10.0),
    }
del EMAIL_BACKEND  # MAILERS replaces the deprecated EMAIL_* settings
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Kapchyk <noreply@kapchyk.kg>")

# Support contacts shown in the footer (flows.md).
KAPCHYK_SUPPORT = [
    (_("DosTek group call centre"), "0312 960 888"),
    (_("ELSOM call centre"), "0312 986 000"),
]

# --- Logs: to stderr; in production one JSON object per line (LOG_FORMAT=json|text) ---
# Every record carries the request id (wallets.request_id). Never log passwords, SMS texts
# (codes) or PINs: the SMS text goes to the outbox only.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "wallets.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "wallets.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Error reporting: Sentry when SENTRY_DSN is set; otherwise nothing is sent (and the SDK
# is not even imported). PINs, codes, passwords, tokens and card data are scrubbed from every
# event (config/sentry.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
if SENTRY_DSN:
    from config.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=env.str("SENTRY_ENVIRONMENT", default="development" if DEBUG else "production"),
        release=env.str("SENTRY_RELEASE", default=""),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )

# Wallet → wallet transfers (transfers.services): the fee is FIXED tyiyn plus PERCENT of the
# amount (rounded up to a tyiyn); none by default.
TRANSFER_FEE_PERCENT = env.float("TRANSFER_FEE_PERCENT", default=0.0)
TRANSFER_FEE_FIXED = env.int("TRANSFER_FEE_FIXED", default=0)
