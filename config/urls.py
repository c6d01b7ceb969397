from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config import staff
from wallets import passkeys
from wallets.health import healthz, healthz_ledger

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("wallets.auth_urls")),  # phone-first sign-in, before allauth's
    # Setting up an authenticator app also counts as the session's second factor (staff).
    path("accounts/2fa/totp/activate/", staff.activate_totp, name="mfa_activate_totp"),
    # …after a code sent by SMS to the user's own number.
    path("accounts/2fa/totp/activate/sms/", staff.enrol_by_sms, name="kapchyk_totp_sms"),
    # Passkeys: always a passkey, no recovery codes; someone else's key is 404 (wallets.passkeys).
    path("accounts/2fa/webauthn/add/", passkeys.passkey_add, name="mfa_add_webauthn"),
    path(
        "accounts/2fa/webauthn/keys/<int:pk>/remove/",
        passkeys.passkey_remove,
        name="mfa_remove_webauthn",
    ),
    path(
        "accounts/2fa/webauthn/keys/<int:pk>/edit/", passkeys.passkey_edit, name="mfa_edit_webauthn"
    ),
    path("accounts/", include("allauth.urls")),
    path("services/", include("providers.urls")),
    path("pay/", include("billing.urls")),
    path("qr/", include("qr.urls")),
    path("cards/", include("cards.urls")),
    path("ussd/", include("ussd.urls")),
    path("notifications/", include("notifications.urls")),
    path("transfers/", include("transfers.urls")),
    path("healthz", healthz, name="healthz"),
    path("healthz/ledger", healthz_ledger, name="healthz_ledger"),
    path("", include("wallets.urls")),
]
