"""Kapchyk's sign-in pages; included under accounts/ before allauth's, so they take over
allauth's URL names where they share them (account_login, account_signup, …)."""

from django.urls import path

from . import auth_views

urlpatterns = [
    path("login/", auth_views.PhoneStepView.as_view(), name="account_login"),
    path("login/password/", auth_views.PasswordLoginView.as_view(), name="kapchyk_login_password"),
    path("signup/", auth_views.RegistrationView.as_view(), name="account_signup"),
    path("phone/verify/", auth_views.verify_phone, name="account_verify_phone"),
    path("phone/change/", auth_views.change_phone, name="account_change_phone"),
]
