"""«Оплата по QR-коду»: scan (paste or photo) → amount → «Подтверждение оплаты» → receipt;
the cashier page (dynamic codes, incoming payments) and the merchant's sticker."""

import csv

from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from transfers.codes import share_path
from wallets import operations
from wallets.models import Wallet
from wallets.money import format_som
from wallets.services import wallet_of_page

from . import images, services
from .forms import AmountForm, ConfirmForm, DynamicForm, ScanForm
from .models import DynamicCode, Merchant, QrPayment


def _wallet(request) -> Wallet:
    return wallet_of_page(request)


def _messages(exc: ValidationError) -> list[str]:
    return exc.messages


def _render_scan(request, form, *, errors=(), foreign=None):
    return render(
        request,
        "qr/scan.html",
        {"form": form, "errors": list(errors), "foreign": foreign, "wallet": _wallet(request)},
    )


def _scan_error(request, exc: ValidationError, link: str = ""):
    """Back to «Считывание» with the refusal; a foreign bank's code is shown for what it is;
    a person's wallet code leads to the transfer to that wallet (issue 12)."""
    foreign = None
    for error in exc.error_dict.get(NON_FIELD_ERRORS, []) if hasattr(exc, "error_dict") else []:
        if error.code == "foreign":
            foreign = error.params
        if error.code == "person" and link:
            return redirect(share_path(link.strip()))
    return _render_scan(request, ScanForm(), errors=_messages(exc), foreign=foreign)


def _render_amount(request, scan, form, wallet):
    return render(
        request,
        "qr/pay.html",
        {"scan": scan, "form": form, "wallet": wallet},
    )


@login_required
def scan(request):
    """«Считывание по QR-коду»: a link pasted or a photo uploaded, read on the server."""
    if request.method != "POST":
        initial = {"link": request.GET.get("c", "")[:5000]}
        return _render_scan(request, ScanForm(initial=initial))
    form = ScanForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_scan(request, form)
    link = form.read_link()
    if link is None:
        return _render_scan(request, form)
    try:
        found = services.scan_resolve(link)
    except ValidationError as exc:
        return _scan_error(request, exc, link)
    wallet = _wallet(request)
    initial = {"link": found.link}
    if found.fixed_amount is not None:
        initial["amount"] = format_som(found.fixed_amount, unit=False)
    return _render_amount(request, found, AmountForm(initial=initial), wallet)


def _render_confirm(request, quote, token, errors=()):
    form = ConfirmForm(
        initial={
            "link": quote.scan.link,
            "amount": format_som(quote.amount, unit=False),
            "token": token,
        }
    )
    return render(
        request,
        "qr/confirm.html",
        {"quote": quote, "form": form, "errors": list(errors), "wallet": quote.wallet},
    )


def _add_errors(form, exc: ValidationError):
    for field, messages_ in exc.message_dict.items():
        target = field if field == "amount" else None
        for message in messages_:
            form.add_error(target, message)


@login_required
@require_POST
def pay(request):
    """«Далее»: the amount checked against the code → «Подтверждение оплаты»."""
    wallet = _wallet(request)
    form = AmountForm(request.POST)
    link = request.POST.get("link", "")[:5000]
    try:
        found = services.scan_resolve(link)
    except ValidationError as exc:
        return _scan_error(request, exc, link)
    if form.is_valid():
        try:
            quote = services.qr_quote(wallet=wallet, scan=found, amount=form.cleaned_data["amount"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            if form.cleaned_data["amount"] is None and found.fixed_amount is None:
                form.add_error("amount", _("Enter the amount."))
            else:
                token = services.qr_token_new(wallet=wallet, quote=quote)
                return _render_confirm(request, quote, token)
    return _render_amount(request, found, form, wallet)


@login_required
@require_POST
def confirm(request):
    """«Оплатить» (or «Назад» to the amount)."""
    wallet = _wallet(request)
    link = request.POST.get("link", "")[:5000]
    try:
        found = services.scan_resolve(link)
    except ValidationError as exc:
        # Paid by this very token already (a double click): its receipt.
        token = request.POST.get("token", "")
        existing = QrPayment.objects.filter(token=token, wallet=wallet).first() if token else None
        if existing is not None:
            return redirect(existing)
        return _scan_error(request, exc)
    form = ConfirmForm(request.POST)
    if request.POST.get("action") == "back" or not form.is_valid():
        amount_form = AmountForm(
            initial={"link": found.link, "amount": request.POST.get("amount", "")[:30]}
        )
        return _render_amount(request, found, amount_form, wallet)
    data = form.cleaned_data
    try:
        payment = services.qr_payment_create(
            wallet=wallet, link=data["link"], amount=data["amount"], token=data["token"]
        )
    except ValidationError as exc:
        codes = operations.codes_of(exc)
        if "insufficient_funds" in codes:
            quote = services.qr_quote(wallet=wallet, scan=found, amount=data["amount"])
            return _render_confirm(request, quote, data["token"], errors=exc.messages)
        amount_form = AmountForm({"link": found.link, "amount": request.POST.get("amount", "")})
        amount_form.is_valid()
        _add_errors(amount_form, exc)
        return _render_amount(request, found, amount_form, wallet)
    return redirect(payment)


@login_required
def receipt(request, code):
    payment = get_object_or_404(
        QrPayment.objects.for_user(request.user).select_related("merchant", "wallet"), code=code
    )
    return render(request, "qr/receipt.html", {"payment": payment})


# --- The merchant's side ---


def _cashier_merchant(request, pk) -> tuple[Merchant, Wallet]:
    """The merchant, if the signed-in person's wallet is one of its cashiers (else 404)."""
    wallet = _wallet(request)
    merchant = Merchant.objects.for_cashier(wallet).select_related("account").filter(pk=pk).first()
    if merchant is None:
        raise Http404
    return merchant, wallet


@login_required
def cashier(request, pk):
    """The cashier page: an amount → a dynamic code; incoming payments (refreshes itself)."""
    merchant, wallet = _cashier_merchant(request, pk)
    form = DynamicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            dynamic = services.dynamic_code_create(
                merchant=merchant, cashier=wallet, amount=form.cleaned_data["amount"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return redirect("qr:dynamic", merchant.pk, dynamic.transaction_id)
    return render(
        request,
        "qr/cashier.html",
        {
            "merchant": merchant,
            "form": form,
            "payments": QrPayment.objects.for_merchant(merchant).recent()[:20],
            "refresh": request.method != "POST",
        },
    )


@login_required
def dynamic(request, pk, code):
    merchant, _wallet_ = _cashier_merchant(request, pk)
    code = get_object_or_404(DynamicCode.objects.filter(merchant=merchant), transaction_id=code)
    payment = QrPayment.objects.filter(transaction_id=code.transaction_id).first()
    link = services.dynamic_link(code)
    return render(
        request,
        "qr/dynamic.html",
        {
            "merchant": merchant,
            "code": code,
            "payment": payment,
            "link": link,
            "svg": images.render_svg(link, scale=8, title=merchant.name_ru, fluid=True),
            "payments": QrPayment.objects.for_merchant(merchant).recent()[:10],
        },
    )


@login_required
def statement(request, pk):
    """The merchant's takings by QR as CSV (its cashiers)."""
    merchant, _wallet_ = _cashier_merchant(request, pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kapchyk-qr-{merchant.pk}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow([_("Date"), _("Payment code"), _("Wallet"), _("Amount, som")])
    tz = timezone.get_current_timezone()
    for payment in QrPayment.objects.for_merchant(merchant).recent().iterator(chunk_size=500):
        writer.writerow(
            [
                timezone.localtime(payment.created_at, tz).strftime("%d.%m.%Y %H:%M"),
                payment.display_code,
                payment.wallet.number[:-4] + "****",
                format_som(payment.amount, unit=False),
            ]
        )
    return response


def _sticker_merchant(request, pk) -> Merchant:
    if request.user.is_staff:
        return get_object_or_404(Merchant, pk=pk)
    return _cashier_merchant(request, pk)[0]


@login_required
def sticker(request, pk):
    """The printable A6 sticker of the merchant's static code."""
    merchant = _sticker_merchant(request, pk)
    link = services.merchant_link(merchant)
    return render(
        request,
        "qr/sticker.html",
        {
            "merchant": merchant,
            "svg": images.render_svg(link, title=merchant.name_ru, fluid=True),
            "link": link,
        },
    )


@login_required
def sticker_png(request, pk):
    merchant = _sticker_merchant(request, pk)
    response = HttpResponse(
        images.render_png(services.merchant_link(merchant)), content_type="image/png"
    )
    response["Content-Disposition"] = f'attachment; filename="kapchyk-qr-{merchant.pk}.png"'
    return response
