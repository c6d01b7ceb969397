import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.models import Favourite
from qr.models import Merchant

from . import history, limits
from .models import Level, Offer, Wallet
from .money import format_som
from .services import sessions_end_others, wallet_of_page


def _wallet_for(request) -> Wallet:
    return wallet_of_page(request)


def index(request):
    if request.user.is_authenticated:
        return redirect("wallets:home")
    return redirect("account_login")


@login_required
def home(request):
    """The cabinet: three statements (session, user, and the wallet with the bell's count
    and the sizes of its two lists) when its recent operations are rendered already and
    its lists are empty; one more for each list that is not. The recent operations are
    rendered once per version of the wallet's history (Account.version, moved by every
    change that history shows) and language, and kept RECENT_SECONDS in the process's
    "fragments" cache: they are read and described only when that rendering is not there
    (the template calls `operations` then)."""
    wallet = wallet_of_page(request, extra=_HOME_COUNTS)
    favourites, desks = wallet.page_extra
    context = {
        "wallet": wallet,
        "operations": lambda: history.describe(history.rows(wallet)[:RECENT], wallet),
        "recent_seconds": RECENT_SECONDS,
        "favourites": Favourite.objects.for_user(request.user) if favourites != 0 else [],
        "cashier_desks": (
            Merchant.objects.for_cashier(wallet).active().order_by("pk") if desks != 0 else []
        ),
    }
    return render(request, "wallets/home.html", context)


RECENT = 10  # operations on the cabinet home
# How long the rendered list may serve its version: what the version does not follow (a
# provider renamed by staff, a name changed) shows within this time.
RECENT_SECONDS = 600
# The sizes of the cabinet's two lists, counted in the wallet's statement: an empty list
# (most wallets have no cashier desk, many no favourite) costs no statement of its own.
_desks = Merchant.cashiers.through._meta
_HOME_COUNTS = (
    f"(SELECT COUNT(*) FROM {Favourite._meta.db_table} f WHERE f.user_id = t0.user_id)",  # noqa: S608
    f"(SELECT COUNT(*) FROM {_desks.db_table} d "  # noqa: S608
    f"WHERE d.{_desks.get_field('wallet').column} = t0.id)",
)


@login_required
def history_page(request):
    """The one history: every operation, filtered by kind, service and period, 25 a page."""
    wallet = _wallet_for(request)
    form = history.form_for(wallet, request.GET)
    page = Paginator(history.filtered(wallet, form), 25).get_page(request.GET.get("page"))
    page.object_list = history.describe(page.object_list, wallet)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "wallets/history.html",
        {"wallet": wallet, "form": form, "page": page, "query": query.urlencode()},
    )


@login_required
def statement(request):
    """The statement (выписка) as CSV, with the history page's filters."""
    wallet = _wallet_for(request)
    form = history.form_for(wallet, request.GET)
    if form.is_bound and not form.is_valid():
        messages.error(request, _("Check the filters."))
        return redirect(f"{reverse('wallets:history')}?{request.GET.urlencode()}")
    name = "kapchyk-statement"
    if form.is_bound:
        start, end = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
        name += f"-{start:%Y%m%d}" if start else ""
        name += f"-{end:%Y%m%d}" if end else ""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response.write("\ufeff")  # so that spreadsheets read the Cyrillic right
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Date"),
            _("Payment code"),
            _("Service"),
            _("Account"),
            _("Amount, som"),
            _("Fee, som"),
            _("Total, som"),
            _("Status"),
        ]
    )
    tz = timezone.get_current_timezone()
    chunk = []
    for transfer in history.filtered(wallet, form).iterator(chunk_size=500):
        chunk.append(transfer)
        if len(chunk) == 500:
            _statement_rows(writer, history.describe(chunk, wallet), tz)
            chunk = []
    _statement_rows(writer, history.describe(chunk, wallet), tz)
    return response


def _statement_rows(writer, rows, tz):
    for row in rows:
        writer.writerow(
            [
                timezone.localtime(row.created_at, tz).strftime("%d.%m.%Y %H:%M"),
                row.code,
                _csv_safe(row.title),
                row.account
                if row.kind == "wallet-transfer"
                else _csv_safe(row.account or row.detail),
                format_som(row.operation_amount, unit=False),
                format_som(row.fee, unit=False),
                format_som(row.amount, unit=False),
                row.status,
            ]
        )


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ would be a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


@login_required
def topup_ways(request):
    """«Пополнить»: cash at KICB branches and terminals (seed 001), or from a card."""
    return render(request, "wallets/topup.html", {"wallet": _wallet_for(request)})


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
