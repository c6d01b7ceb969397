"""Quick sign-in by PIN on a trusted device (wallets.devices) and the PIN on the web.

- «Безопасность» (/cabinet/security/): the trusted devices (remove one), «Войти по ПИН-коду на
  этом устройстве» (shown by static/js/quick-signin.js only: without JavaScript there is no
  device key, so nothing is offered), the PIN (set or change it) and the passkeys.
- The sign-in page: the script finds the device key in IndexedDB, asks for a challenge
  (PinChallengeView), signs it and posts it with the PIN (PinSignInView).
- In a session signed in by PIN, linking a card and changing the PIN or the password ask for
  the password (or a passkey) again first (`reauthenticate_in_pin_session`).
"""

from functools import wraps
from urllib.parse import urlencode

from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.login import perform_login, record_authentication
from allauth.account.internal.flows.reauthentication import did_recently_reauthenticate
from allauth.account.models import Login
from allauth.core import ratelimit
from allauth.core.exceptions import ImmediateHttpResponse
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from . import devices
from .digits import ascii_digits
from .models import Wallet

# The sign-in page tells the script which device was just forgotten (its key goes too).
FORGOTTEN_SESSION_KEY = "kapchyk_device_forgotten"
PIN_RATE_ACTION = "pin_sign_in"


def reauthenticate_in_pin_session(view):
    """In a session signed in by PIN, the password (or a passkey) first: within allauth's
    ACCOUNT_REAUTHENTICATION_TIMEOUT of having typed it, the view runs. A POST is never kept
    for later (a card's number and CVV must not land in the session): the person comes back
    to the page and sends it again."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if (
            request.user.is_authenticated
            and devices.is_pin_session(request)
            and not did_recently_reauthenticate(request)
        ):
            methods = get_adapter(request).get_reauthentication_methods(request.user)
            url = methods[0]["url"] if methods else reverse("account_login")
            messages.info(
                request,
                gettext("You signed in with the PIN: confirm it is you with the password."),
            )
            return redirect(f"{url}?{urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper


# --- messages ---


def refusal_text(refused: devices.Refused) -> str:
    params = refused.params
    texts = {
        "device_forgotten": gettext(
            "This device is no longer trusted for sign-in by PIN. Sign in with your number "
            "and password."
        ),
        "device_forgotten_now": gettext(
            "Wrong PIN 5 times: this device is forgotten. Sign in with your number and password."
        ),
        "challenge_invalid": gettext(
            "This sign-in request has expired or was already used. Try again."
        ),
        "signature_invalid": gettext(
            "This device's signature is not valid. Sign in with your number and password."
        ),
        "no_pin": gettext("The wallet has no PIN. Sign in with your number and password."),
        "pin_format": gettext("The PIN is 4 digits."),
        "pin_wrong": gettext("Wrong PIN. Tries left on this device: %(left)s.")
        % {"left": params.get("left")},
        "key_invalid": gettext("This browser could not make a device key. Try another browser."),
        "no_wallet": gettext("Open a wallet first."),
        "pin_needed": gettext("Set the wallet's PIN first."),
        "pin_exists": gettext("The wallet's PIN was set meanwhile: reload the page."),
        "too_many_devices": gettext(
            "You trust too many devices already: remove one on this page first."
        ),
        "pin_session": gettext("To trust a new device, sign in with your number and password."),
    }
    if refused.code == "pin_locked":
        until = timezone.localtime(params["until"]).strftime("%H:%M")
        text = gettext("The PIN is locked until %(until)s after 3 wrong PINs.") % {"until": until}
        if params.get("left"):
            text += " " + gettext("Tries left on this device: %(left)s.") % {"left": params["left"]}
        return text
    return texts[refused.code]


# --- forms ---


class PinField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            min_length=4,
            max_length=4,
            strip=True,
            widget=forms.PasswordInput(
                attrs={
                    "inputmode": "numeric",
                    "autocomplete": "off",
                    "pattern": "[0-9]{4}",
                    "maxlength": "4",
                }
            ),
            error_messages={
                "min_length": _("The PIN is 4 digits."),
                "max_length": _("The PIN is 4 digits."),
            },
            **kwargs,
        )

    def to_python(self, value):
        return ascii_digits(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        if value and not (value.isascii() and value.isdigit()):
            raise forms.ValidationError(_("The PIN is 4 digits."), code="pin_format")


class NewPinForm(forms.Form):
    """A new PIN, twice. With `current_hash`, the current PIN first (the *900# rules)."""

    current = PinField(label=_("Current PIN"))
    pin1 = PinField(label=_("New PIN (4 digits)"))
    pin2 = PinField(label=_("Repeat the new PIN"))

    def __init__(self, *args, wallet=None, ask_current=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.wallet = wallet
        self.check = None
        if not ask_current:
            del self.fields["current"]

    def clean_current(self):
        from ussd import services as pins

        pin = self.cleaned_data["current"]
        self.check = pins.pin_check(wallet=self.wallet, pin=pin)
        if self.check.ok:
            return pin
        if self.check.locked:
            until = timezone.localtime(self.check.locked_until).strftime("%H:%M")
            raise forms.ValidationError(
                gettext("The PIN is locked until %(until)s after 3 wrong PINs.") % {"until": until},
                code="pin_locked",
            )
        raise forms.ValidationError(
            gettext("Wrong PIN. Tries left: %(left)s.") % {"left": self.check.attempts_left},
            code="pin_wrong",
        )

    def clean(self):
        data = super().clean()
        if data.get("pin1") and data.get("pin2") and data["pin1"] != data["pin2"]:
            self.add_error("pin2", gettext("The PINs do not match."))
        return data


# --- the security page's parts ---


def _wallet(request) -> Wallet | None:
    return Wallet.objects.filter(user=request.user).only("pk", "pin_hash", "number").first()


@never_cache
@login_required
@require_POST
def device_add(request):
    """Trust this browser (JSON for static/js/quick-signin.js): its public key, and the PIN
    twice when the wallet has none yet."""
    if devices.is_pin_session(request):
        refused = devices.Refused("pin_session")
        return JsonResponse({"error": refusal_text(refused)}, status=403)
    wallet = _wallet(request)
    new_pin = None
    from transfers.models import masked_number

    if wallet is not None and not wallet.pin_hash:
        form = NewPinForm(request.POST, wallet=wallet, ask_current=False)
        if not form.is_valid():
            errors = [str(e) for field in form.errors.values() for e in field]
            return JsonResponse({"error": " ".join(dict.fromkeys(errors))}, status=400)
        new_pin = form.cleaned_data["pin1"]
    try:
        device = devices.device_enrol(
            user=request.user,
            public_key=request.POST.get("public_key", ""),
            user_agent=request.headers.get("User-Agent", ""),
            new_pin=new_pin,
        )
    except devices.Refused as refused:
        return JsonResponse({"error": refusal_text(refused)}, status=400)
    messages.success(
        request,
        gettext("Sign-in by PIN is on for this device (%(name)s).") % {"name": device.name},
    )
    return JsonResponse(
        {"device": device.public_id, "number": masked_number(request.user.phone)}, status=201
    )


@login_required
@require_POST
def device_remove(request, pk):
    if not devices.device_remove(user=request.user, pk=pk):
        raise Http404
    messages.success(request, gettext("The device is forgotten: it needs the password again."))
    return redirect("wallets:security")


@method_decorator(
    [sensitive_post_parameters("current", "pin1", "pin2"), never_cache, login_required],
    name="dispatch",
)
@method_decorator(reauthenticate_in_pin_session, name="dispatch")
class PinChangeView(View):
    """The wallet's PIN (the *900# PIN): set it, or change it with the current one."""

    template_name = "wallets/pin_change.html"

    def dispatch(self, request, *args, **kwargs):
        self.wallet = _wallet(request)
        if self.wallet is None:
            return redirect("wallets:home")
        return super().dispatch(request, *args, **kwargs)

    def form(self, data=None):
        return NewPinForm(data, wallet=self.wallet, ask_current=bool(self.wallet.pin_hash))

    def get(self, request):
        return self.render(self.form())

    def post(self, request):
        from ussd import services as pins

        form = self.form(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        pin = form.cleaned_data["pin1"]
        if form.check is None:
            done = pins.pin_set(wallet=self.wallet, pin=pin)
        else:
            done = pins.pin_change(
                wallet=self.wallet, expected_hash=form.check.hash, new_hash=pins.pin_hash_new(pin)
            )
            # pin_change signs out everywhere else (and forgets trusted devices); this
            # session stays signed in with the user's new hash.
            request.user.refresh_from_db(fields=["session_salt"])
            update_session_auth_hash(request, request.user)
        if not done:
            messages.error(request, gettext("The PIN was changed meanwhile: try again."))
            return redirect("wallets:pin_change")
        messages.success(request, gettext("The PIN is saved. Use it for *900# too."))
        return redirect("wallets:security")

    def render(self, form, status=200):
        context = {"form": form, "has_pin": bool(self.wallet.pin_hash)}
        return render(self.request, self.template_name, context, status=status)


pin_change = PinChangeView.as_view()


# --- signing in on the device ---


def _limited(request):
    return ratelimit.consume_or_429(
        request,
        action=PIN_RATE_ACTION,
        config={PIN_RATE_ACTION: settings.KAPCHYK_PIN_SIGN_IN_RATE},
    )


@never_cache
@require_POST
def pin_challenge(request):
    """A one-time challenge for the device's key to sign (JSON)."""
    limited = _limited(request)
    if limited:
        return JsonResponse({"error": gettext("Too many attempts. Try again later.")}, status=429)
    try:
        nonce = devices.challenge_issue(public_id=request.POST.get("device", ""))
    except devices.Refused as refused:
        return JsonResponse({"error": refusal_text(refused), "forgotten": True}, status=410)
    return JsonResponse({"challenge": nonce})


@never_cache
@sensitive_post_parameters("pin", "signature")
@require_POST
def pin_sign_in(request):
    """The device's signature of its challenge and the PIN → signed in (allauth's login)."""
    limited = _limited(request)
    if limited:
        return limited
    public_id = request.POST.get("device", "")
    try:
        signed = devices.pin_sign_in(
            public_id=public_id,
            nonce=request.POST.get("challenge", ""),
            signature=request.POST.get("signature", ""),
            pin=ascii_digits(request.POST.get("pin", "")),
        )
    except devices.Refused as refused:
        if refused.code in {"device_forgotten", "device_forgotten_now"}:
            request.session[FORGOTTEN_SESSION_KEY] = public_id[:32]
        messages.error(request, refusal_text(refused))
        url = reverse("account_login")
        next_url = request.POST.get(REDIRECT_FIELD_NAME, "")
        if next_url and _safe(request, next_url):
            url += "?" + urlencode({REDIRECT_FIELD_NAME: next_url})
        return redirect(url)
    record_authentication(
        request, signed.user, method=devices.PIN_METHOD, device=signed.device.public_id
    )
    next_url = request.POST.get(REDIRECT_FIELD_NAME, "")
    login = Login(user=signed.user, redirect_url=next_url if _safe(request, next_url) else None)
    try:
        return perform_login(request, login)
    except ImmediateHttpResponse as e:
        return e.response


def _safe(request, url: str) -> bool:
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
