"""The Kapchyk admin site: staff only, signed in with a second factor.

Installed as the default admin site (config.apps.KapchykAdminConfig), so every
`@admin.register` lands here. It lives at settings.ADMIN_URL.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache


class KapchykAdminSite(admin.AdminSite):
    site_header = _("Kapchyk administration")
    site_title = _("Kapchyk admin")
    index_title = _("Administration")

    def has_permission(self, request):
        """An active staff member who passed the second factor in this session."""
        from .staff import mfa_passed

        return super().has_permission(request) and mfa_passed(request)

    def _next_url(self, request) -> str:
        url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
        if url and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return url
        return reverse("admin:index", current_app=self.name)

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request, extra_context=None):
        """Number and password (rate limited like the public sign-in), then the code.

        - not signed in (or not staff): the form; a right password goes on through
          allauth's sign-in stages, which ask an authenticator code when the staff
          member has an app (mfa_authenticate);
        - staff signed in without a second factor in this session: the code
          (mfa_reauthenticate), or setting up an app when they have none.
        """
        from allauth.account.internal.flows.login import perform_login, record_authentication
        from allauth.account.models import Login
        from allauth.core import ratelimit

        from .staff import StaffLoginForm, has_totp, mfa_passed

        next_url = self._next_url(request)
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff:
            if mfa_passed(request):
                if request.method != "POST":
                    return HttpResponseRedirect(next_url)
            elif has_totp(user):
                query = urlencode({REDIRECT_FIELD_NAME: next_url})
                return HttpResponseRedirect(f"{reverse('mfa_reauthenticate')}?{query}")
            else:
                return HttpResponseRedirect(reverse("mfa_activate_totp"))

        form = StaffLoginForm(request, data=request.POST if request.method == "POST" else None)
        if request.method == "POST":
            limited = ratelimit.consume_or_429(request, action="login")
            if limited:
                return limited
            if form.is_valid():
                login = Login(user=form.user, redirect_url=next_url)
                # The password was typed just now: it also counts as the "recent" password
                # that allauth asks again before setting up an authenticator app.
                record_authentication(request, form.user, "password", reauthenticated=True)
                response = perform_login(request, login)
                request.session.set_expiry(0)  # like the public sign-in: ends with the browser
                return response

        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": user.get_username() if user.is_authenticated else "",
            "form": form,
            REDIRECT_FIELD_NAME: next_url,
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, self.login_template or "admin/login.html", context)
