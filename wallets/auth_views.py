"""Web sign-in and registration, phone first (flows.md A1–A2), on top of allauth.

1. /accounts/login/ — the wallet number and «Войти» (PhoneStepView);
2a. a number with a web account → /accounts/login/password/ (PasswordLoginView);
2b. any other number → «Регистрация номера …» at /accounts/signup/ (RegistrationView);
3. the SMS code at /accounts/phone/verify/ (VerifyPhoneView) proves the number; then the
   registration is written, the wallet opens and the owner is signed in.

Every limit hit (the phone step, failed passwords, SMS codes) answers with the 429 page.
"""

from allauth.account import views as allauth_views
from allauth.account.internal.flows.login import perform_login
from allauth.account.internal.stagekit import clear_login
from allauth.account.mixins import NextRedirectMixin
from allauth.account.models import Login
from allauth.account.utils import get_login_redirect_url, passthrough_next_redirect_url
from allauth.core import ratelimit
from allauth.core.exceptions import ImmediateHttpResponse
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.generic.edit import FormView

from . import services
from .adapter import PHONE_SESSION_KEY, REGISTRATION_STATE_KEY
from .auth_forms import (
    PasswordLoginForm,
    PhoneStepForm,
    RegistrationForm,
    VerifyPhoneForm,
    web_account,
)

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
