"""Passkeys (allauth.mfa's WebAuthn, fido2) for wallet owners: a way to sign in, offered beside
the PIN on «Безопасность» and as «Войти с ключом доступа» on the sign-in page.

For Kapchyk a passkey is a sign-in of its own, never a second step after the password
(`TotpAuthenticateStage`: only an authenticator app asks for a code after the password, as
before), and never the staff's second factor for the admin (config.staff.mfa_passed counts
only the authenticator app and its recovery codes). Adding one is always a passkey
(discoverable, user verification required) and makes no recovery codes.
"""

from allauth.mfa import signals
from allauth.mfa.models import Authenticator
from allauth.mfa.stages import AuthenticateStage
from allauth.mfa.utils import is_mfa_enabled
from allauth.mfa.webauthn import views as webauthn_views
from allauth.mfa.webauthn.forms import AddWebAuthnForm
from allauth.mfa.webauthn.internal import auth
from allauth.mfa.webauthn.internal.flows import did_use_passwordless_login
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext

from .device_views import reauthenticate_in_pin_session


class TotpAuthenticateStage(AuthenticateStage):
    """allauth's «code after the password» stage, for an authenticator app only."""

    def _should_handle(self, request) -> bool:
        user = self.login.user
        if user is None or not is_mfa_enabled(user, [Authenticator.Type.TOTP]):
            return False
        return not did_use_passwordless_login(request, user)


class PasskeyAddForm(AddWebAuthnForm):
    def clean(self):
        self.cleaned_data["passwordless"] = True
        return super().clean()


class PasskeyAddView(webauthn_views.AddWebAuthnView):
    """allauth's «add a key», always as a passkey, back to «Безопасность»."""

    template_name = "wallets/passkey_add.html"

    def get_form_class(self):
        return PasskeyAddForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["js_data"] = {"creation_options": auth.begin_registration(self.request.user, True)}
        return context

    def form_valid(self, form):
        authenticator = auth.WebAuthn.add(
            self.request.user, form.cleaned_data["name"], form.cleaned_data["credential"]
        ).instance
        signals.authenticator_added.send(
            sender=Authenticator,
            request=self.request,
            user=self.request.user,
            authenticator=authenticator,
        )
        messages.success(self.request, gettext("The passkey is added."))
        return redirect("wallets:security")


passkey_add = login_required(reauthenticate_in_pin_session(PasskeyAddView.as_view()))


def _own_passkey(view):
    """allauth's remove/rename of a key: someone else's key is 404, before anything else."""

    @login_required
    def wrapper(request, pk):
        if not Authenticator.objects.filter(
            pk=pk, user_id=request.user.pk, type=Authenticator.Type.WEBAUTHN
        ).exists():
            raise Http404
        response = view(request, pk=pk)
        if request.method == "POST" and response.status_code == 302:
            return redirect("wallets:security")
        return response

    return wrapper


passkey_remove = _own_passkey(webauthn_views.remove_webauthn)
passkey_edit = _own_passkey(webauthn_views.edit_webauthn)
