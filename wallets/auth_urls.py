"""Kapchyk's sign-in pages; included under accounts/ before allauth's, so they take over
allauth's URL names where they share them (account_login, account_signup, …)."""

from allauth.account import views as allauth_views
from django.urls import path, re_path

from . import auth_views, device_views

urlpatterns = [
    path("login/", auth_views.PhoneStepView.as_view(), name="account_login"),
    path("login/password/", auth_views.PasswordLoginView.as_view(), name="kapchyk_login_password"),
    path("login/pin/", device_views.pin_sign_in, name="kapchyk_pin_login"),
    path("login/pin/challenge/", device_views.pin_challenge, name="kapchyk_pin_challenge"),
    # In a session signed in by PIN, the password again first (wallets.device_views).
    path(
        "password/change/",
        device_views.reauthenticate_in_pin_session(allauth_views.password_change),
        name="account_change_password",
    ),
    path("signup/", auth_views.RegistrationView.as_view(), name="account_signup"),
    path("phone/verify/", auth_views.verify_phone, name="account_verify_phone"),
    path("phone/change/", auth_views.change_phone, name="account_change_phone"),
    path("email/", auth_views.EmailChangeView.as_view(), name="account_email"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="account_reset_password"),
    path(
        "password/reset/code/",
        auth_views.PasswordResetCodeView.as_view(),
        name="kapchyk_reset_code",
    ),
    path(
        "password/reset/new/", auth_views.PasswordResetNewView.as_view(), name="kapchyk_reset_new"
    ),
    path(
        "password/reset/done/", auth_views.password_reset_done, name="account_reset_password_done"
    ),
    re_path(
        r"^password/reset/key/(?P<uidb36>[0-9A-Za-z]+)-(?P<key>.+)/$",
        auth_views.password_reset_link,
        name="account_reset_password_from_key",
    ),
]
