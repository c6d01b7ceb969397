"""allauth glue: the phone number (E.164) is the login; proving it by SMS opens the wallet.

A web registration (wallets.auth_views.RegistrationView) does not write the email or the
password at once: they wait, hashed, in the sign-in state until the SMS code proves the
number (see PhoneVerificationStage). So typing someone else's number changes nothing.
"""

import logging
from functools import partial

# allauth's flows must load before allauth.account.stages, or importing this adapter first
# (as `manage.py check` does) is a circular import inside allauth.
import allauth.account.internal.flows  # noqa: F401  isort: skip
from allauth.account import stages
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.account.internal.flows.phone_verification import PhoneVerificationStageProcess
from allauth.core import ratelimit
from allauth.core.exceptions import RateLimited
from allauth.core.internal.httpkit import headed_redirect_response
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import services
from .devices import PIN_METHOD, PIN_SESSION_KEY, devices_forget_all
from .models import Offer, User, Wallet
from .phones import format_number
from .sms import send_sms, sms_quota_consume

logger = logging.getLogger(__name__)

# Where the phone step keeps the number typed (E.164) for the next step.
PHONE_SESSION_KEY = "kapchyk_phone"
# Key in allauth's Login.state holding a registration waiting for its SMS code.
REGISTRATION_STATE_KEY = "kapchyk_registration"


EMAIL_CHANGED_SMS = _(
    "Kapchyk: the email of wallet %(number)s is now %(email)s. If it was not you, change "
    "the password and call support."
)
PASSWORD_CHANGED_SMS = _(
    "Kapchyk: the password of wallet %(number)s has been changed. If it was not you, "
    "recover it by SMS and call support."
)


def owner_sms(user: User, text, **params) -> None:
    """Tell the owner of `user` by SMS to the wallet's number, in their language, on commit."""
    if not user.phone:
        return
    with translation.override(user.language or settings.LANGUAGE_CODE):
        body = str(text) % {"number": format_number(user.phone), **params}
    transaction.on_commit(partial(send_sms, phone=user.phone, text=body))


def _deliver_mail(message, template_prefix: str) -> None:
    try:
        message.send()
    except Exception as exc:  # a mail server down or misconfigured must not fail the page
        logger.error("E-mail %s not delivered: %s", template_prefix, type(exc).__name__)


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        # The password step shows the number; only the password can be wrong.
        "phone_password_mismatch": _("Incorrect password."),
    }

    # --- phone numbers ---

    def phone_form_field(self, **kwargs):
        from .auth_forms import WalletNumberField

        return WalletNumberField(**kwargs)

    def get_phone(self, user):
        if not user.phone:
            return None
        return user.phone, user.phone_verified

    def set_phone(self, user, phone, verified):
        # A wallet's number is its owner's number: it never moves to another number.
        if user.pk and user.phone != phone and Wallet.objects.filter(user=user).exists():
            raise PermissionDenied("The number of a wallet cannot be changed.")
        user.phone = phone
        user.phone_verified = verified
        if user.pk:
            user.save(update_fields=["phone", "phone_verified"])

    def set_phone_verified(self, user, phone):
        User.objects.filter(pk=user.pk).update(phone_verified=True)
        user.phone_verified = True
        services.wallet_open(user=user)

    def get_user_by_phone(self, phone):
        return User.objects.filter(phone=phone).first()

    def send_verification_code_sms(self, user, phone, code, **kwargs):
        # The text is rendered now, in the visitor's language; it leaves after the commit.
        # The SMS caps first (per number, per address, the hour's budget): past one, the
        # visitor gets the 429 page saying which (wallets.middleware), and nothing is sent.
        request = getattr(self, "request", None)
        sms_quota_consume(phone=phone, ip=self.get_client_ip(request) if request else None)
        text = gettext("Kapchyk code: %(code)s. Do not tell it to anyone.") % {"code": code}
        transaction.on_commit(partial(send_sms, phone=phone, text=text, secrets=[code]))

    def get_login_stages(self):
        ours = {
            "allauth.account.stages.PhoneVerificationStage": "wallets.adapter.PhoneVerificationStage",
            # A passkey is a sign-in of its own, not a second step (wallets.passkeys).
            "allauth.mfa.stages.AuthenticateStage": "wallets.passkeys.TotpAuthenticateStage",
        }
        return [ours.get(path, path) for path in super().get_login_stages()]

    # --- passwords and failed logins ---

    def clean_password(self, password, user=None):
        # All of AUTH_PASSWORD_VALIDATORS at once (8+ characters, a Latin letter and a digit…).
        validate_password(password, user)
        return password

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth keys failed logins by email/username; ours are by number.
        phone = credentials.get("phone")
        if phone:
            return f"phone:{phone}"
        return super()._get_login_attempts_cache_key(request, **credentials)

    def pre_authenticate(self, request, **credentials):
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as error:
            if error.code == "too_many_login_attempts":
                raise RateLimited from None  # → the 429 page (wallets.middleware)
            raise

    def set_password(self, user, password):
        super().set_password(user, password)
        # A new password (changed, or reset by SMS code) lifts the lock of failed logins on
        # the number, and the owner hears of it on the wallet's number.
        ratelimit.clear(
            self.request,
            action="login_failed",
            key=self._get_login_attempts_cache_key(self.request, phone=user.phone),
        )
        from notifications.devices import secret_changed

        secret_changed(
            user, lambda: str(PASSWORD_CHANGED_SMS) % {"number": format_number(user.phone)}
        )
        # Devices trusted for sign-in by PIN need the new password again.
        if user.pk:
            devices_forget_all(user=user)

    # --- email: a contact that is used once its link is opened ---

    def send_mail(self, template_prefix, email, context):
        # Rendered now, in the visitor's language; it leaves after the commit, and a mail
        # server that is down or refuses is logged instead of failing the page.
        message = self.render_mail(template_prefix, email, context)
        transaction.on_commit(partial(_deliver_mail, message, template_prefix))

    def confirm_email(self, request, email_address):
        before = User.objects.filter(pk=email_address.user_id).values_list("email", flat=True)
        before = before.first()
        confirmed = super().confirm_email(request, email_address)
        if confirmed and email_address.email != before:
            owner_sms(email_address.user, EMAIL_CHANGED_SMS, email=email_address.email)
        return confirmed

    # --- signing in ---

    def login(self, request, user):
        # Signed in by PIN on a trusted device (wallets.devices): the session says so, and
        # sensitive actions ask for the password (or a passkey) again.
        records = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY) or []
        by_pin = bool(records) and records[-1].get("method") == PIN_METHOD
        super().login(request, user)
        if by_pin:
            request.session[PIN_SESSION_KEY] = True
        request.session.pop(PHONE_SESSION_KEY, None)
        language = translation.get_language()
        if language in dict(settings.LANGUAGES) and user.language != language:
            User.objects.filter(pk=user.pk).update(language=language)
            user.language = language


class PhoneVerificationStage(stages.PhoneVerificationStage):
    """allauth's phone verification stage, plus web registration.

    A registration always proves the number by an SMS code, even when the number is
    already verified (a wallet opened through USSD *900# has no web password yet); the
    email, password and accepted offer are written only when the code is right.
    """

    def handle(self):
        if REGISTRATION_STATE_KEY not in self.login.state:
            return super().handle()
        PhoneVerificationStageProcess.initiate(stage=self, phone=self.login.user.phone)
        return headed_redirect_response("account_verify_phone"), True

    def exit(self):
        pending = self.login.state.pop(REGISTRATION_STATE_KEY, None)
        if pending:
            services.web_account_register(
                user=self.login.user,
                email=pending["email"],
                password_hash=pending["password"],
                offer=Offer.objects.get(pk=pending["offer"]),
            )
        return super().exit()
