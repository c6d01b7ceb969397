"""Staff sign-in to the admin: the mobile number and password, then a second factor.

The second factor is allauth's MFA: a TOTP authenticator app, with recovery codes for a
lost phone. allauth records every authentication method of a session
(allauth.account.authentication); the admin opens only for an active staff member whose
session holds an "mfa" record (`mfa_passed`). Staff without an authenticator are sent to
set one up first; setting it up proves the app with a code, so it counts as the factor.

Setting an app up needs a one-time code sent by SMS to the user's own number first
(EnrolBySmsView): a password alone, in whoever's hands, cannot enrol a new app.
"""

import secrets
import time
from functools import partial

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.core import ratelimit
from allauth.core.exceptions import RateLimited
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.base.forms import AuthenticateForm as AllauthAuthenticateForm
from allauth.mfa.base.forms import ReauthenticateForm as AllauthReauthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.totp import views as totp_views
from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.cache import never_cache

from wallets.auth_forms import SmsCodeForm, WalletNumberField
from wallets.digits import ascii_digits
from wallets.sms import send_sms

MFA_METHOD = "mfa"


def mfa_passed(request) -> bool:
    """Has the signed-in user of `request` passed a second factor in this session?"""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    # A passkey (webauthn) is a wallet owner's sign-in (wallets.passkeys), not the admin's
    # second factor: only the authenticator app and its recovery codes count.
    return any(
        record.get("method") == MFA_METHOD and record.get("type") != "webauthn"
        for record in get_authentication_records(request, user)
    )


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


class StaffLoginForm(forms.Form):
    """The admin's sign-in: the staff member's mobile number and password.

    Checked by allauth's adapter, so the limit of failed passwords per number
    (ACCOUNT_RATE_LIMITS["login_failed"]) is the public sign-in's, shared with it: past
    it the request ends with the 429 page (wallets.adapter.AccountAdapter.pre_authenticate).
    """

    # The admin's login template shows `username` and `password`.
    username = WalletNumberField(label=_("Mobile number"))
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": _(
            "Please enter the correct mobile number and password for a staff account."
        ),
    }

    def __init__(self, request, *args, **kwargs):
        self.request = request
        self.user = None
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["autofocus"] = True

    def credentials(self) -> dict:
        return {"phone": self.cleaned_data["username"], "password": self.cleaned_data["password"]}

    def clean(self):
        cleaned_data = super().clean()
        if self.errors:
            return cleaned_data
        from allauth.account.adapter import get_adapter

        user = get_adapter(self.request).authenticate(self.request, **self.credentials())
        if user is None or not user.is_active or not user.is_staff:
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        self.user = user
        return cleaned_data


class _LimitIs429:
    """allauth limits wrong codes like wrong passwords (5 in 5 minutes per user) and says
    so next to the field; like the sign-in, Kapchyk answers with the 429 page."""

    def clean_code(self):
        # Typed with another script's digits, the code means the same digits (wallets.digits).
        self.cleaned_data["code"] = ascii_digits(self.cleaned_data["code"])
        try:
            return super().clean_code()
        except forms.ValidationError as error:
            if error.code in {"too_many_login_attempts", "rate_limited"}:
                raise RateLimited from None  # → wallets.middleware.RateLimitedMiddleware
            raise


class AuthenticateForm(_LimitIs429, AllauthAuthenticateForm):
    pass


class ReauthenticateForm(_LimitIs429, AllauthReauthenticateForm):
    pass


class ActivateTOTPForm(_LimitIs429, AllauthActivateTOTPForm):
    pass


# The SMS step before an app is set up: {"user_id", "code", "at", "failed", "proven"}.
ENROL_SESSION_KEY = "kapchyk_totp_enrolment"
ENROL_CODE_TIMEOUT = 10 * 60  # seconds: to type the code, then to set the app up
ENROL_MAX_ATTEMPTS = 3


def _enrolment(request) -> dict | None:
    state = request.session.get(ENROL_SESSION_KEY)
    if (
        not state
        or state.get("user_id") != str(request.user.pk)
        or time.time() - state.get("at", 0) > ENROL_CODE_TIMEOUT
    ):
        return None
    return state


def enrolment_proven(request) -> bool:
    """Has the signed-in user typed, in this session, the code sent to their number?"""
    state = _enrolment(request)
    return bool(state and state.get("proven"))


@method_decorator([never_cache, login_required], name="dispatch")
class EnrolBySmsView(View):
    """Before an authenticator app is set up: a code by SMS to the user's number."""

    template_name = "mfa/totp/enrol_sms.html"

    def get(self, request):
        if enrolment_proven(request):
            return redirect("mfa_activate_totp")
        return self.render(SmsCodeForm(expected=""))

    def post(self, request):
        state = _enrolment(request)
        if request.POST.get("action") == "send":
            limited = ratelimit.consume_or_429(
                request,
                action="totp_sms",
                key=str(request.user.pk),
                config={"totp_sms": settings.KAPCHYK_TOTP_SMS_RATE},
            )
            if limited:
                return limited
            code = f"{secrets.randbelow(10**6):06d}"
            request.session[ENROL_SESSION_KEY] = {
                "user_id": str(request.user.pk),
                "code": code,
                "at": time.time(),
                "failed": 0,
                "proven": False,
            }
            text = gettext(
                "Kapchyk: code %(code)s to set up an authenticator app. Do not tell it to "
                "anyone; if you did not ask for it, call the security officer."
            ) % {"code": code}
            transaction.on_commit(
                partial(send_sms, phone=request.user.phone, text=text, secrets=[code])
            )
            return redirect("kapchyk_totp_sms")
        form = SmsCodeForm(request.POST, expected=(state or {}).get("code", ""))
        if state is None:
            messages.error(request, gettext("The code has expired. Request a new one."))
            return redirect("kapchyk_totp_sms")
        if form.is_valid():
            state.update(proven=True, at=time.time(), code="")
            request.session[ENROL_SESSION_KEY] = state
            return redirect("mfa_activate_totp")
        state["failed"] += 1
        if state["failed"] >= ENROL_MAX_ATTEMPTS:
            request.session.pop(ENROL_SESSION_KEY, None)
            messages.error(request, gettext("Too many wrong codes. Request a new one."))
            return redirect("kapchyk_totp_sms")
        request.session[ENROL_SESSION_KEY] = state
        return self.render(form, sent=True)

    def render(self, form, sent=None):
        if sent is None:
            state = _enrolment(self.request)
            sent = bool(state and state.get("code"))
        return TemplateResponse(self.request, self.template_name, {"form": form, "sent": sent})


enrol_by_sms = EnrolBySmsView.as_view()


class ActivateTOTPView(totp_views.ActivateTOTPView):
    """allauth's «activate an authenticator app»; the code that proves the new app also
    counts as this session's second factor (the admin opens right after). Only after the
    SMS code of EnrolBySmsView."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not enrolment_proven(request):
            return redirect("kapchyk_totp_sms")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Shown inline (the CSP allows no data: images): without the XML declaration.
        svg = context["totp_svg"]
        context["totp_svg"] = svg[svg.find("<svg") :] if "<svg" in svg else ""
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        user = self.request.user
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if totp is not None:
            record_authentication(
                self.request, user, MFA_METHOD, id=totp.pk, type=totp.type, activated=True
            )
            self.request.session.pop(ENROL_SESSION_KEY, None)
        return response


activate_totp = ActivateTOTPView.as_view()


class MFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        # Staff keep their second factor: the admin needs it. A lost phone is what the
        # recovery codes are for; a superuser can remove an authenticator in the admin.
        return not authenticator.user.is_staff
