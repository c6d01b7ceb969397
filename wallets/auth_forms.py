"""Forms of the web sign-in and registration (flows.md A1–A2).

Phone first: the visitor types the wallet number; a number with a web account goes on to
its password, any other number to «Регистрация номера …».
"""

from allauth.account.forms import LoginForm
from allauth.account.forms import ResetPasswordKeyForm as AllauthResetPasswordKeyForm
from allauth.account.forms import VerifyPhoneForm as AllauthVerifyPhoneForm
from django import forms
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .digits import ascii_digits
from .models import Offer, User
from .phones import normalize_wallet_number


class TelInput(forms.TextInput):
    input_type = "tel"


class WalletNumberField(forms.CharField):
    """A Kyrgyz mobile number in any usual spelling; cleans to E.164 (+996555123456)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Wallet number"))
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "widget",
            TelInput(
                attrs={"autocomplete": "tel", "inputmode": "tel", "placeholder": "0555 123 456"}
            ),
        )
        kwargs.setdefault("error_messages", {"required": _("Enter your mobile number.")})
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return ""
        return normalize_wallet_number(value)


def web_account(phone: str) -> User | None:
    """The user who can sign in on the web with `phone`: a proven number and a password."""
    user = User.objects.filter(phone=phone, phone_verified=True).first()
    if user is None or not user.has_usable_password():
        return None
    return user


class PhoneStepForm(forms.Form):
    phone = WalletNumberField(help_text=_("Your mobile number, for example 0555 123 456."))


class PasswordLoginForm(LoginForm):
    """allauth's login form for a number chosen in the phone step (kept in the session)."""

    def __init__(self, *args, phone: str, **kwargs):
        if kwargs.get("data") is not None:
            data = kwargs["data"].copy()
            data["login"] = phone
            kwargs["data"] = data
        super().__init__(*args, **kwargs)
        self.phone = phone
        self.fields["login"].widget = forms.HiddenInput()
        password = self.fields["password"]
        password.help_text = ""
        password.widget.attrs.pop("placeholder", None)
        password.widget.attrs["autofocus"] = True

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError as error:
            # A wrong password: say so next to the password field.
            self.add_error("password", error)
            return self.cleaned_data


PASSWORD_HELP = _("At least 8 characters, Latin letters and digits.")


class RegistrationForm(forms.Form):
    """«Регистрация номера …»: Email, Пароль, Повторите пароль and the public offer."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=PASSWORD_HELP,
    )
    password2 = forms.CharField(
        label=_("Repeat password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    offer = forms.BooleanField(
        label=_("I agree to the terms of the public offer"),
        error_messages={"required": _("To register, agree to the terms of the public offer.")},
    )

    def __init__(self, *args, phone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.phone = phone
        self.current_offer = Offer.objects.current()
        self.number_registered = False

    def clean_email(self):
        return self.cleaned_data["email"].lower()

    def clean(self):
        data = super().clean()
        if web_account(self.phone) is not None:
            self.number_registered = True
            raise forms.ValidationError(
                _("This number is already registered. Sign in with your password."),
                code="registered",
            )
        if self.current_offer is None:
            raise forms.ValidationError(
                _("Registration is closed: the public offer is not published yet."),
                code="no_offer",
            )
        password1, password2 = data.get("password1"), data.get("password2")
        if password1:
            try:
                validate_password(password1, User(phone=self.phone, email=data.get("email", "")))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The passwords do not match."))
        return data

    def pending_registration(self) -> dict:
        """What the SMS code will confirm: kept in the sign-in state, the password hashed."""
        return {
            "email": self.cleaned_data["email"],
            "password": make_password(self.cleaned_data["password1"]),
            "offer": self.current_offer.pk,
        }


class VerifyPhoneForm(AllauthVerifyPhoneForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        code = self.fields["code"]
        code.label = _("Code from the SMS")
        code.widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        )
        code.widget.attrs.pop("placeholder", None)

    def clean_code(self):
        # Typed with another script's digits, the code means the same digits (wallets.digits).
        self.cleaned_data["code"] = ascii_digits(self.cleaned_data["code"])
        return super().clean_code()


class ResetPasswordKeyForm(AllauthResetPasswordKeyForm):
    """allauth's new-password form with the short rule as its help."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = PASSWORD_HELP
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)


class EmailChangeForm(forms.Form):
    """A new email for a signed-in owner: the password again, then a link to the address."""

    email = forms.EmailField(
        label=_("New email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("To change the email, confirm that it is you."),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_email(self):
        from allauth.account.models import EmailAddress

        email = self.cleaned_data["email"].lower()
        if EmailAddress.objects.filter(user_id=self.user.pk, email=email, verified=True):
            raise forms.ValidationError(
                _("This is already the confirmed email of your wallet."), code="same"
            )
        return email

    def clean_password(self):
        from allauth.account.adapter import get_adapter

        password = self.cleaned_data["password"]
        # Counted with the sign-in's wrong passwords: the 6th in 5 minutes → the 429 page.
        if not get_adapter().reauthenticate(self.user, password):
            raise forms.ValidationError(_("Incorrect password."), code="incorrect_password")
        return password


class PasswordResetPhoneForm(forms.Form):
    phone = WalletNumberField(help_text=_("We will send an SMS with a code to this number."))

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        self.user = web_account(phone)
        if self.user is None:
            # The phone step tells the same: a number without a web account registers.
            raise forms.ValidationError(
                _("This number has no web account. Sign in with it to register."),
                code="unknown",
            )
        return phone


class SmsCodeForm(forms.Form):
    """A 6-digit code sent by SMS, checked against `expected` (empty: nothing was sent)."""

    code = forms.CharField(
        label=_("Code from the SMS"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}
        ),
        error_messages={"required": _("Enter the code from the SMS.")},
    )

    def __init__(self, *args, expected: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected = expected

    def clean_code(self):
        import hmac

        code = "".join(self.cleaned_data["code"].split())
        if not self.expected or not hmac.compare_digest(code.encode(), self.expected.encode()):
            raise forms.ValidationError(_("Incorrect code."), code="incorrect_code")
        return code
