import csv
import dataclasses
import heapq

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications.models import Notification
from providers.models import Provider
from transfers.models import WalletTransfer, masked_number, short_name
from wallets import operations
from wallets.models import Wallet
from wallets.money import format_som
from wallets.rows import Joined
from wallets.services import wallet_of_page

from . import services
from .forms import ConfirmForm, FavouriteNameForm, HistoryFilterForm, PaymentForm
from .models import Favourite, Payment, format_code


def _wallet(request) -> Wallet:
    return wallet_of_page(request)


# Every step of a payment loads its provider: one statement, not compiled per request.
_ACTIVE_PROVIDER = Joined(
    Provider, ["category", "account"], where="t0.slug = %s AND t0.active = %s"
)


def _provider(slug) -> Provider:
    """The active provider of `slug`, with its category and ledger account (404 if none)."""
    provider, _extra = _ACTIVE_PROVIDER.first([slug, True])
    if provider is None:
        raise Http404
    return provider


def _som_value(tyiyn: int) -> str:
    """The amount as the person types it back into the form: 150,50 (comma, as in ru/ky)."""
    return format_som(tyiyn, unit=False)


def _render_form(request, provider, form, wallet, status=200):
    return render(
        request,
        "billing/pay_form.html",
        {"provider": provider, "form": form, "wallet": wallet},
        status=status,
    )


def _render_confirm(request, provider, quote, token, wallet, errors=None):
    initial = {
        "account": quote.account,
        "amount": _som_value(quote.amount),
        "provider_id": provider.pk,
        "token": token,
    }
    if quote.holder:
        initial["holder"] = services.holder_seal(account=quote.account, holder=quote.holder)
    form = ConfirmForm(initial=initial, provider=provider)
    return render(
        request,
        "billing/confirm.html",
        {
            "provider": provider,
            "quote": quote,
            "form": form,
            "errors": errors or [],
            "wallet": wallet,
        },
    )


@login_required
def pay(request, slug):
    """The provider page: account and amount; «Далее» shows the confirm page."""
    provider = _provider(slug)
    wallet = _wallet(request)
    if request.method != "POST":
        initial = {}
        if request.GET.get("account"):
            initial["account"] = request.GET["account"][:64]
        if request.GET.get("amount"):
            initial["amount"] = request.GET["amount"][:30]
        return _render_form(
            request, provider, PaymentForm(initial=initial, provider=provider), wallet
        )
    form = PaymentForm(request.POST, provider=provider)
    if form.is_valid():
        try:
            quote = services.payment_quote(
                wallet=wallet,
                provider=provider,
                account=form.cleaned_data["account"],
                amount=form.cleaned_data["amount"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            token = services.payment_token_new(wallet=wallet, quote=quote)
            return _render_confirm(request, provider, quote, token, wallet)
    return _render_form(request, provider, form, wallet)


def _back_to_form(request, provider, wallet, errors):
    """The provider's form with the posted values and `errors` ({field: [messages]})."""
    form = PaymentForm(
        {
            "account": request.POST.get("account", "")[:64],
            "amount": request.POST.get("amount", "")[:30],
        },
        provider=provider,
    )
    form.is_valid()
    for field, messages_ in errors.items():
        target = field if field in ("account", "amount") else None
        if target and target in form.errors:
            continue  # the field's own message says it already
        for message in messages_:
            form.add_error(target, message)
    return _render_form(request, provider, form, wallet)


@login_required
@require_POST
def confirm(request, slug):
    """The confirm page's buttons: «Назад» (back to the filled form) or «Оплатить»."""
    provider = _provider(slug)
    wallet = _wallet(request)
    if request.POST.get("action") == "back":
        form = PaymentForm(
            initial={
                "account": request.POST.get("account", "")[:64],
                "amount": request.POST.get("amount", "")[:30],
            },
            provider=provider,
        )
        return _render_form(request, provider, form, wallet)
    form = ConfirmForm(request.POST, provider=provider)
    if not form.is_valid():
        # A hand-made or tampered POST: back to the form, with a message, nothing moved.
        hidden = {k: v for k, v in form.errors.items() if k in ("provider_id", "token")}
        return _back_to_form(request, provider, wallet, hidden)
    data = form.cleaned_data
    holder = services.holder_unseal(sealed=data["holder"], account=data["account"])
    try:
        payment = services.payment_create(
            wallet=wallet,
            provider=provider,
            account=data["account"],
            amount=data["amount"],
            token=data["token"],
            channel=Payment.Channel.WEB,
            holder=holder,
        )
    except ValidationError as exc:
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.messages}
        )
        codes = operations.codes_of(exc)
        if codes & {"insufficient_funds", "price_changed"}:
            # The confirm page again, as it stands now; a new price needs a new token.
            quote = services.payment_quote(
                wallet=wallet,
                provider=provider,
                account=data["account"],
                amount=data["amount"],
                check=False,
            )
            quote = dataclasses.replace(quote, holder=holder)
            token = data["token"]
            if "price_changed" in codes:
                token = services.payment_token_new(wallet=wallet, quote=quote)
            return _render_confirm(
                request, provider, quote, token, wallet, errors=errors[NON_FIELD_ERRORS]
            )
        return _back_to_form(request, provider, wallet, errors)
    return redirect(payment)


# The receipt (the last step of a payment): the owner's payment and the bell's count in one
# statement, not compiled per request.
_OWN_PAYMENT = Joined(
    Payment,
    ["provider", "wallet"],
    extra=[
        f"(SELECT COUNT(*) FROM {Notification._meta.db_table} n "  # noqa: S608
        "WHERE n.user_id = t2.user_id AND n.read_at IS NULL)"
    ],
    where="t0.code = %s AND t2.user_id = %s",
)


@login_required
def receipt(request, code):
    payment, extra = _OWN_PAYMENT.first([code, request.user.pk])
    if payment is None:
        raise Http404
    request.notifications_unread = int(extra[0])
    return render(
        request,
        "billing/receipt.html",
        {
            "payment": payment,
            "favourite_form": FavouriteNameForm(
                initial={"name": f"{payment.provider.name} {payment.account}"[:60]}
            ),
        },
    )


@login_required
@require_POST
def favourite_add(request, code):
    payment = get_object_or_404(
        Payment.objects.for_user(request.user).select_related("provider", "wallet"), code=code
    )
    form = FavouriteNameForm(request.POST)
    if form.is_valid():
        try:
            services.favourite_create(
                user=request.user, payment=payment, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Saved to Favourites."))
            return redirect("billing:favourites")
    return render(
        request, "billing/receipt.html", {"payment": payment, "favourite_form": form}, status=200
    )


@login_required
def favourites(request):
    return render(
        request,
        "billing/favourites.html",
        {"favourites": Favourite.objects.for_user(request.user)},
    )


def _favourite(request, pk) -> Favourite:
    return get_object_or_404(Favourite.objects.for_user(request.user), pk=pk)


@login_required
def favourite_use(request, pk):
    """One click on a template: the provider's form, filled in."""
    favourite = _favourite(request, pk)
    provider = favourite.provider
    if not provider.active:
        messages.error(request, _("This service is not available now."))
        return redirect("billing:favourites")
    initial = {"account": favourite.account}
    if favourite.amount:
        initial["amount"] = _som_value(favourite.amount)
    return _render_form(
        request, provider, PaymentForm(initial=initial, provider=provider), _wallet(request)
    )


@login_required
def favourite_edit(request, pk):
    favourite = _favourite(request, pk)
    form = FavouriteNameForm(request.POST or None, initial={"name": favourite.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.favourite_rename(favourite=favourite, name=form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error("name", exc.messages[0])
        else:
            messages.success(request, _("The template is renamed."))
            return redirect("billing:favourites")
    return render(request, "billing/favourite_edit.html", {"favourite": favourite, "form": form})


@login_required
@require_POST
def favourite_delete(request, pk):
    favourite = _favourite(request, pk)
    services.favourite_delete(favourite=favourite)
    messages.success(request, _("The template is deleted."))
    return redirect("billing:favourites")


def _history(request):
    wallet = _wallet(request)
    providers = Provider.objects.filter(payments__wallet=wallet).distinct().order_by("name_ru")
    form = HistoryFilterForm(request.GET or None, providers=providers)
    rows = Payment.objects.for_wallet(wallet).recent()
    period = (None, None)
    if form.is_valid():
        data = form.cleaned_data
        if data["provider"]:
            rows = rows.filter(provider=data["provider"])
        rows = form.filter_period(rows)
        period = (data["date_from"], data["date_to"])
    elif request.GET:
        rows = rows.none()
    return wallet, form, rows, period


@login_required
def history(request):
    wallet, form, rows, _period = _history(request)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "billing/history.html",
        {"wallet": wallet, "form": form, "page": page, "query": query.urlencode()},
    )


@login_required
def statement(request):
    """The statement (выписка) as CSV, with the history page's filters."""
    wallet, form, rows, (start, end) = _history(request)
    if request.GET and not form.is_valid():
        messages.error(request, _("Check the period."))
        return redirect(f"{reverse('billing:history')}?{request.GET.urlencode()}")
    name = "kapchyk-statement"
    if start:
        name += f"-{start:%Y%m%d}"
    if end:
        name += f"-{end:%Y%m%d}"
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
    transfers = _statement_transfers(wallet, form)
    for payment in heapq.merge(
        rows.iterator(chunk_size=500),
        transfers.iterator(chunk_size=500),
        key=lambda row: (row.created_at, row.pk),
        reverse=True,
    ):
        if isinstance(payment, WalletTransfer):
            writer.writerow(_transfer_row(payment, wallet, tz))
            continue
        writer.writerow(
            [
                timezone.localtime(payment.created_at, tz).strftime("%d.%m.%Y %H:%M"),
                format_code(payment.code),
                payment.provider.name,
                _csv_safe(payment.account),
                format_som(payment.amount, unit=False),
                format_som(payment.fee, unit=False),
                format_som(payment.total, unit=False),
                payment.get_public_status_display(),
            ]
        )
    return response


def _statement_transfers(wallet, form):
    """The wallet's transfers for the statement (none when it is limited to a service)."""
    transfers = (
        WalletTransfer.objects.filter(Q(sender=wallet) | Q(recipient=wallet))
        .select_related("sender__user", "recipient__user")
        .order_by("-created_at", "-id")
    )
    if not form.is_bound:
        return transfers
    if not form.is_valid() or form.cleaned_data["provider"]:
        return transfers.none()
    return form.filter_period(transfers)


def _transfer_row(operation, wallet, tz) -> list[str]:
    sent = operation.sender_id == wallet.pk
    other = operation.recipient if sent else operation.sender
    values = {"name": short_name(other.user)}
    what = _("Transfer to %(name)s") % values if sent else _("Transfer from %(name)s") % values
    fee = operation.fee if sent else 0
    return [
        timezone.localtime(operation.created_at, tz).strftime("%d.%m.%Y %H:%M"),
        operation.display_code,
        _csv_safe(what),
        masked_number(other.number),
        format_som(operation.amount, unit=False),
        format_som(fee, unit=False),
        format_som(operation.amount + fee, unit=False),
        operation.get_status_display(),
    ]


def _csv_safe(value: str) -> str:
    # A cell starting with = + - @ would be a formula in a spreadsheet.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
