"""Staff sign-in to the admin: the mobile number and password, then a second factor.

The second factor is allauth's MFA: a TOTP authenticator app, with recovery codes for a
lost phone. allauth records every authentication method of a session
(allauth.account.authentication); the admin opens only for an active staff member whose
session holds an "mfa" record (`mfa_passed`). Staff without an authenticator are sent to
set one up first; setting it up proves the app with a code, so it counts as the factor.
"""

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.core.exceptions import RateLimited
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.base.forms import AuthenticateForm as AllauthAuthenticateForm
from allauth.mfa.base.forms import ReauthenticateForm as AllauthReauthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.totp import views as totp_views
from allauth.mfa.totp.forms import ActivateTOTPForm as AllauthActivateTOTPForm
from django import forms
from django.utils.translation import gettext_lazy as _

from wallets.auth_forms import WalletNumberField
from wallets.digits import ascii_digits

MFA_METHOD = "mfa"


def mfa_passed(request) -> bool:
    """Has the signed-in user of `request` passed a second factor in this session?"""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return any(
        record.get("method") == MFA_METHOD for record in get_authentication_records(request, user)
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


class ActivateTOTPView(totp_views.ActivateTOTPView):
    """allauth's «activate an authenticator app»; the code that proves the new app also
    counts as this session's second factor (the admin opens right after)."""

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
        return response


activate_totp = ActivateTOTPView.as_view()


class MFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        # Staff keep their second factor: the admin needs it. A lost phone is what the
        # recovery codes are for; a superuser can remove an authenticator in the admin.
        return not authenticator.user.is_staff
