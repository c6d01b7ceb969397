"""Web sign-in and registration, phone first (flows.md A1–A2), on top of allauth.

1. /accounts/login/ — the wallet number and «Войти» (PhoneStepView);
2a. a number with a web account → /accounts/login/password/ (PasswordLoginView);
2b. any other number → «Регистрация номера …» at /accounts/signup/ (RegistrationView);
3. the SMS code at /accounts/phone/verify/ (VerifyPhoneView) proves the number; then the
   registration is written, the wallet opens and the owner is signed in.

Recovery goes through the wallet's number as well: a forgotten password is reset with a
code sent by SMS (PasswordResetView → PasswordResetCodeView → PasswordResetNewView); an
email link alone never resets it. A signed-in owner changes the email with the password
(EmailChangeView), and the new address is used only once its link is opened.

Every limit hit (the phone step, failed passwords, SMS codes) answers with the 429 page.
"""

import secrets
from functools import partial

from allauth.account import app_settings as allauth_settings
from allauth.account import views as allauth_views
from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.code_verification import AbstractCodeVerificationProcess
from allauth.account.internal.flows.email_verification import (
    send_verification_email_to_address,
)
from allauth.account.internal.flows.login import perform_login
from allauth.account.internal.stagekit import clear_login
from allauth.account.mixins import NextRedirectMixin
from allauth.account.models import EmailAddress, Login
from allauth.account.utils import get_login_redirect_url, passthrough_next_redirect_url
from allauth.core import ratelimit
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import never_cache
from django.views.generic.edit import FormView

from notifications.devices import registering_here

from . import services
from .adapter import PHONE_SESSION_KEY, REGISTRATION_STATE_KEY
from .auth_forms import (
    EmailChangeForm,
    PasswordLoginForm,
    PasswordResetPhoneForm,
    PhoneStepForm,
    RegistrationForm,
    ResetPasswordKeyForm,
    SmsCodeForm,
    VerifyPhoneForm,
    web_account,
)
from .sms import send_sms, sms_quota_consume

PHONE_STEP_ACTION = "phone_step"


def _with_next(request, url: str) -> str:
    return passthrough_next_redirect_url(request, url, REDIRECT_FIELD_NAME)


@method_decorator(never_cache, name="dispatch")
class PhoneStepView(NextRedirectMixin, FormView):
    """Step 1: the wallet number decides between the password and the registration."""

    template_name = "account/login.html"
    form_class = PhoneStepForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return HttpResponseRedirect(get_login_redirect_url(request))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        from .device_views import FORGOTTEN_SESSION_KEY

        context = super().get_context_data(**kwargs)
        # A device forgotten just now (5 wrong PINs): the sign-in page's script drops its key.
        context["device_forgotten"] = self.request.session.pop(FORGOTTEN_SESSION_KEY, "")
        return context

    def post(self, request, *args, **kwargs):
        limited = ratelimit.consume_or_429(
            request,
            action=PHONE_STEP_ACTION,
            key=request.POST.get("phone", ""),
            config={PHONE_STEP_ACTION: settings.KAPCHYK_PHONE_STEP_RATE},
        )
        if limited:
            return limited
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        phone = form.cleaned_data["phone"]
        # Whatever sign-in or registration was half done in this browser ends here.
        clear_login(self.request)
        self.request.session[PHONE_SESSION_KEY] = phone
        step = "kapchyk_login_password" if web_account(phone) else "account_signup"
        return HttpResponseRedirect(_with_next(self.request, reverse(step)))


class _NumberChosenMixin:
    """The steps after the phone step work on the number kept in the session."""

    def dispatch(self, request, *args, **kwargs):
        self.phone = request.session.get(PHONE_SESSION_KEY)
        if not self.phone and not request.user.is_authenticated:
            return redirect(_with_next(request, reverse("account_login")))
        return super().dispatch(request, *args, **kwargs)

    def get_form_class(self):
        return self.form_class

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["phone"] = self.phone
        return kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["phone"] = self.phone
        return context


class PasswordLoginView(_NumberChosenMixin, allauth_views.LoginView):
    """Step 2a: the password of a number with a web account (allauth's login)."""

    template_name = "account/login_password.html"
    form_class = PasswordLoginForm

    def dispatch(self, request, *args, **kwargs):
        phone = request.session.get(PHONE_SESSION_KEY)
        if phone and not request.user.is_authenticated and web_account(phone) is None:
            return redirect(_with_next(request, reverse("account_signup")))
        return super().dispatch(request, *args, **kwargs)


class RegistrationView(_NumberChosenMixin, allauth_views.SignupView):
    """Step 2b: «Регистрация номера …»; the SMS code (step 3) confirms it."""

    template_name = "account/signup.html"
    form_class = RegistrationForm

    def dispatch(self, request, *args, **kwargs):
        phone = request.session.get(PHONE_SESSION_KEY)
        if (
            phone
            and request.method == "GET"
            and not request.user.is_authenticated
            and web_account(phone) is not None
        ):
            return redirect(_with_next(request, reverse("kapchyk_login_password")))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        user = services.web_registration_start(phone=self.phone, language=get_language())
        registering_here(self.request, user)  # its sign-in is no «new device»
        login = Login(user=user, redirect_url=self.get_success_url(), signup=True)
        login.state[REGISTRATION_STATE_KEY] = form.pending_registration()
        try:
            return perform_login(self.request, login)
        except ImmediateHttpResponse as e:
            return e.response


class VerifyPhoneView(allauth_views._VerifyPhoneSignupView):
    """Step 3: the SMS code. Limits hit here answer 429 instead of a message."""

    template_name = "account/confirm_phone_verification_code.html"

    def _get_verify_form_class(self):
        return VerifyPhoneForm

    def _resend_form_valid(self, form):
        # allauth turns a hit "verify_phone" limit into a message; ours is the 429 page.
        self.process.resend()
        return HttpResponseRedirect(self.passthrough_next_url(reverse("account_verify_phone")))

    def respond_process_failed(self, form):
        # Too many wrong codes: allauth has ended this sign-in (the stage is cleared).
        return render(self.request, "429.html", status=429)


def verify_phone(request):
    # Changing the number of a signed-in owner is not offered: it is the wallet's number.
    if request.user.is_authenticated:
        raise Http404
    return VerifyPhoneView.as_view()(request)


def change_phone(request):
    raise Http404


# --- a forgotten password: a code by SMS to the wallet's number ---

RESET_SESSION_KEY = "kapchyk_password_reset"


class PasswordResetBySms(AbstractCodeVerificationProcess):
    """The state of one password reset, kept in the session: whose, the code, its tries."""

    def __init__(self, request, state, user=None):
        self.request = request
        super().__init__(
            state=state,
            timeout=allauth_settings.PASSWORD_RESET_BY_CODE_TIMEOUT,
            max_attempts=allauth_settings.PASSWORD_RESET_BY_CODE_MAX_ATTEMPTS,
            user=user,
        )

    def persist(self):
        self.request.session[RESET_SESSION_KEY] = self.state

    def abort(self):
        self.request.session.pop(RESET_SESSION_KEY, None)

    def send(self):
        self.state["code"] = f"{secrets.randbelow(10**6):06d}"
        text = gettext("Kapchyk password recovery code: %(code)s. Do not tell it to anyone.") % {
            "code": self.state["code"]
        }
        # A visitor asks for it: the SMS caps apply (past one, the 429 page, nothing sent).
        adapter = get_adapter(self.request)
        sms_quota_consume(phone=self.state["phone"], ip=adapter.get_client_ip(self.request))
        transaction.on_commit(
            partial(send_sms, phone=self.state["phone"], text=text, secrets=[self.state["code"]])
        )

    @classmethod
    def initiate(cls, *, request, user, phone):
        process = cls(request, cls.initial_state(user, phone=phone), user=user)
        process.send()
        process.persist()
        return process

    @classmethod
    def resume(cls, request):
        state = request.session.get(RESET_SESSION_KEY)
        if not state or not state.get("user_id"):
            return None
        return cls(request, state).abort_if_invalid()


@method_decorator(never_cache, name="dispatch")
class PasswordResetView(FormView):
    """«Забыли пароль?»: the wallet number; the code goes by SMS to it."""

    template_name = "account/password_reset.html"
    form_class = PasswordResetPhoneForm

    def get_initial(self):
        return {"phone": self.request.session.get(PHONE_SESSION_KEY, "")}

    def form_valid(self, form):
        # ACCOUNT_RATE_LIMITS["reset_password"]: per address, and per number however typed.
        limited = ratelimit.consume_or_429(
            self.request, action="reset_password", key=form.cleaned_data["phone"]
        )
        if limited:
            return limited
        PasswordResetBySms.initiate(
            request=self.request, user=form.user, phone=form.cleaned_data["phone"]
        )
        return redirect("kapchyk_reset_code")


@method_decorator(never_cache, name="dispatch")
class PasswordResetCodeView(FormView):
    template_name = "account/password_reset_code.html"
    form_class = SmsCodeForm

    def dispatch(self, request, *args, **kwargs):
        self.process = PasswordResetBySms.resume(request)
        if self.process is None:
            return redirect("account_reset_password")
        if self.process.state.get("code_confirmed"):
            return redirect("kapchyk_reset_new")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "expected": self.process.code}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "phone": self.process.state["phone"]}

    def form_valid(self, form):
        self.process.state["code_confirmed"] = True
        self.process.persist()
        return redirect("kapchyk_reset_new")

    def form_invalid(self, form):
        if self.process.record_invalid_attempt():
            return super().form_invalid(form)
        # Too many wrong codes: this reset is over (a new one sends a new code).
        return render(self.request, "429.html", status=429)


@method_decorator(never_cache, name="dispatch")
class PasswordResetNewView(FormView):
    template_name = "account/password_reset_from_key.html"
    form_class = ResetPasswordKeyForm

    def dispatch(self, request, *args, **kwargs):
        self.process = PasswordResetBySms.resume(request)
        if self.process is None or self.process.user is None:
            return redirect("account_reset_password")
        if not self.process.state.get("code_confirmed"):
            return redirect("kapchyk_reset_code")
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.process.user}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "action_url": reverse("kapchyk_reset_new")}

    def form_valid(self, form):
        # The new password changes the session hash: every session of the wallet ends.
        form.save()
        self.process.abort()
        return redirect("account_reset_password_from_key_done")


def password_reset_link(request, uidb36, key):
    """A reset link from an email (as sent before): it no longer resets anything."""
    return render(request, "account/password_reset_from_key.html", {"token_fail": True})


def password_reset_done(request):
    return redirect("account_reset_password")


# --- the email of a signed-in owner ---


@method_decorator([never_cache, login_required], name="dispatch")
class EmailChangeView(FormView):
    """The email: the password again, then a link to the new address (allauth's
    ACCOUNT_CHANGE_EMAIL: the address is used once the link is opened, see the adapter)."""

    template_name = "account/email.html"
    form_class = EmailChangeForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            services.email_address_sync(user=request.user)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        addresses = EmailAddress.objects.filter(user_id=self.request.user.pk)
        return {
            **super().get_context_data(**kwargs),
            "current": next((a for a in addresses if a.primary), None),
            "pending": next((a for a in addresses if not a.primary and not a.verified), None),
        }

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        user = self.request.user
        address = EmailAddress.objects.filter(user_id=user.pk, email=email).first()
        if address is None:
            # One change at a time: a newer address replaces the one still waiting.
            EmailAddress.objects.filter(user_id=user.pk, primary=False, verified=False).delete()
            address = EmailAddress.objects.create(user=user, email=email)
        if not send_verification_email_to_address(self.request, address):
            # The link to this address left minutes ago (allauth's "confirm_email" limit).
            messages.info(
                self.request,
                gettext("A link to %(email)s was sent a few minutes ago: check the mailbox.")
                % {"email": email},
            )
        return redirect("account_email")
