from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.models import Favourite

from . import limits
from .forms import PeriodForm
from .models import Level, Offer, Transfer, Wallet
from .services import sessions_end_others, wallet_of_page


def _wallet_for(request) -> Wallet:
    return wallet_of_page(request)


def operations(wallet: Wallet):
    """A wallet's transfers, newest first, each marked incoming or outgoing."""
    # Only what the statement shows: no accounts joined, no columns it does not read.
    return (
        Transfer.objects.for_account(wallet.account_id)
        .only("kind", "memo", "amount", "created_at", "credit_id", "debit_id")
        .order_by("-created_at", "-id")
    )


def _mark(rows, wallet):
    for row in rows:
        row.incoming = row.credit_id == wallet.account_id
        row.signed = row.amount if row.incoming else -row.amount
    return rows


def index(request):
    if request.user.is_authenticated:
        return redirect("wallets:home")
    return redirect("account_login")


@login_required
def home(request):
    wallet = _wallet_for(request)
    recent = _mark(list(operations(wallet)[:10]), wallet)
    context = {
        "wallet": wallet,
        "operations": recent,
        "favourites": Favourite.objects.for_user(request.user),
    }
    return render(request, "wallets/home.html", context)


@login_required
def history(request):
    wallet = _wallet_for(request)
    form = PeriodForm(request.GET or None)
    rows = operations(wallet)
    if form.is_valid():
        rows = form.filter_period(rows)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    _mark(page.object_list, wallet)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "wallets/history.html",
        {"wallet": wallet, "form": form, "page": page, "query": query.urlencode()},
    )


def offer(request):
    return render(request, "wallets/offer.html", {"offer": Offer.objects.current()})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def security(request):
    """Sessions: how long they last, and «sign out on all other devices» (POST)."""
    if request.method == "POST":
        sessions_end_others(user=request.user, keep_session_key=request.session.session_key)
        # Keeps this session (under a new key) signed in with the user's new hash.
        update_session_auth_hash(request, request.user)
        messages.success(request, _("You are signed out on all other devices."))
        return redirect("wallets:security")
    from allauth.mfa.models import Authenticator

    from .devices import is_pin_session

    wallet = Wallet.objects.filter(user=request.user).only("pin_hash").first()
    context = {
        "idle_minutes": max(1, settings.SESSION_COOKIE_AGE // 60),
        "devices": list(request.user.trusted_devices.all()),
        "wallet": wallet,
        "has_pin": bool(wallet and wallet.pin_hash),
        "pin_session": is_pin_session(request),
        "passkeys": list(
            Authenticator.objects.filter(
                user_id=request.user.pk, type=Authenticator.Type.WEBAUTHN
            ).order_by("created_at")
        ),
    }
    if wallet is not None and not context["has_pin"]:
        from .device_views import NewPinForm

        context["pin_form"] = NewPinForm(wallet=wallet, ask_current=False)
    return render(request, "wallets/security.html", context)


@login_required
def limits_page(request):
    """«Лимиты»: the owner's level, its limits, what is left this day and month, and what
    the next level needs (read from the wallet's ledger row, which carries them)."""
    wallet = _wallet_for(request)
    account, level = wallet.account, wallet.level
    left = limits.left(account)
    now = limits.usage(account)
    rows = [
        {
            "name": name,
            "limit": getattr(account, f"limit_{name}"),
            "used": now.used(name),
            "left": left[name],
        }
        for name in limits.NAMES
    ]
    following = Level.objects.filter(order__gt=level.order) if level else Level.objects.all()
    context = {"wallet": wallet, "level": level, "rows": rows, "next": following.first()}
    return render(request, "wallets/limits.html", context)
