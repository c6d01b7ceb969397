from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from qr import images
from qr import services as qr_services
from qr.forms import AmountForm, ScanForm
from wallets.models import Wallet
from wallets.money import format_som
from wallets.phones import format_number
from wallets.services import wallet_of_page

from . import codes, services
from .forms import ConfirmForm, RequestForm, TransferForm
from .models import WalletTransfer, masked_number, short_name


def _wallet(request) -> Wallet:
    return wallet_of_page(request)


@login_required
def start(request):
    """«Переводы»: by phone number (and, later, by QR code)."""
    return render(request, "transfers/start.html", {"wallet": _wallet(request)})


def _render_form(request, form, wallet):
    return render(request, "transfers/form.html", {"form": form, "wallet": wallet})


def _render_check(request, quote, token, wallet, errors=None, link=""):
    form = ConfirmForm(
        initial={
            "number": quote.recipient.number,
            "amount": format_som(quote.amount, unit=False),
            "token": token,
            "link": link,
        }
    )
    return render(
        request,
        "transfers/check.html",
        {"quote": quote, "form": form, "wallet": wallet, "errors": errors or []},
    )


def _add_errors(form, exc: ValidationError):
    errors = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    for field, entries in errors.items():
        target = field if field in form.fields and field not in form.errors else None
        if field in form.errors:
            continue  # the field's own message says it already
        for entry in entries:
            form.add_error(target, entry.message if hasattr(entry, "message") else entry)


@login_required
def by_number(request):
    """The number and the amount; «Далее» shows the check page."""
    wallet = _wallet(request)
    if request.method != "POST":
        initial = {k: request.GET[k][:30] for k in ("number", "amount") if request.GET.get(k)}
        repeat = WalletTransfer.objects.filter(
            sender=wallet, code=request.GET.get("repeat", "")[:32]
        ).select_related("recipient")
        for sent in repeat[:1]:  # «Повторить» on a receipt: the same recipient and amount
            initial = {
                "number": format_number(sent.recipient.number),
                "amount": format_som(sent.amount, unit=False),
            }
        return _render_form(request, TransferForm(initial=initial), wallet)
    form = TransferForm(request.POST)
    if form.is_valid():
        try:
            quote = services.transfer_quote(
                wallet=wallet,
                number=form.cleaned_data["number"],
                amount=form.cleaned_data["amount"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            token = services.transfer_token_new(wallet=wallet, quote=quote)
            return _render_check(request, quote, token, wallet)
    return _render_form(request, form, wallet)


def _back_to_form(request, wallet, exc=None):
    form = TransferForm(
        {
            "number": request.POST.get("number", "")[:32],
            "amount": request.POST.get("amount", "")[:30],
        }
    )
    form.is_valid()
    if exc is not None:
        _add_errors(form, exc)
    return _render_form(request, form, wallet)


@login_required
@require_POST
def confirm(request):
    """The check page's buttons: «Назад» (the filled form) or «Перевести»."""
    wallet = _wallet(request)
    if request.POST.get("link"):
        return _confirm_by_qr(request, wallet)
    if request.POST.get("action") == "back":
        form = TransferForm(
            initial={
                "number": request.POST.get("number", "")[:32],
                "amount": request.POST.get("amount", "")[:30],
            }
        )
        return _render_form(request, form, wallet)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        hidden = form.errors.get("token")
        exc = ValidationError(list(hidden)) if hidden else None
        return _back_to_form(request, wallet, exc)
    data = form.cleaned_data
    try:
        operation = services.transfer_create(
            wallet=wallet, number=data["number"], amount=data["amount"], token=data["token"]
        )
    except ValidationError as exc:
        # Refused (out of date, balance, recipient): the filled form says why; nothing moved.
        return _back_to_form(request, wallet, exc)
    return redirect(operation)


@login_required
def receipt(request, code):
    """The receipt, for the sender and for the recipient (404 for anyone else)."""
    operation = get_object_or_404(
        WalletTransfer.objects.for_user(request.user).select_related(
            "sender__user", "recipient__user"
        ),
        code=code,
    )
    sent = operation.sender.user_id == request.user.pk
    other = operation.recipient if sent else operation.sender
    return render(
        request,
        "transfers/receipt.html",
        {
            "operation": operation,
            "sent": sent,
            "other_name": short_name(other.user),
            "other_number": masked_number(other.number),
        },
    )


# --- «С помощью QR-кода» ---


def _render_scan(request, wallet, form=None, errors=()):
    return render(
        request,
        "transfers/qr_scan.html",
        {"form": form or ScanForm(), "errors": list(errors), "wallet": wallet},
    )


def _render_amount(request, scan, form, wallet):
    return render(
        request, "transfers/qr_amount.html", {"scan": scan, "form": form, "wallet": wallet}
    )


def _amount_form(scan, amount=None):
    fixed = scan.fixed_amount
    shown = fixed if fixed is not None else amount
    initial = {"link": scan.link}
    if shown is not None:
        initial["amount"] = format_som(shown, unit=False)
    return AmountForm(initial=initial)


@login_required
def by_qr(request):
    """«С помощью QR-кода»: the recipient's code scanned with the camera (static/js/qr-scan.js
    fills the link), uploaded as a photo, or pasted; a share link opens it with ?c=<link>.
    The recipient is resolved on the server → the amount → «Далее»."""
    wallet = _wallet(request)
    if request.method == "POST":
        form = ScanForm(request.POST, request.FILES)
        link = form.read_link() if form.is_valid() else None
        if link is None:
            return _render_scan(request, wallet, form)
    else:
        link = request.GET.get("c", "")[:5000].strip()
        if not link:
            return _render_scan(request, wallet)
    try:
        scan = codes.scan_resolve(link, wallet=wallet)
    except ValidationError as exc:
        return _render_scan(request, wallet, ScanForm(initial={"link": link}), exc.messages)
    return _render_amount(request, scan, _amount_form(scan), wallet)


@login_required
@require_POST
def qr_next(request):
    """«Далее» after the amount of a transfer by QR code → the check page."""
    wallet = _wallet(request)
    link = request.POST.get("link", "")[:5000]
    try:
        scan = codes.scan_resolve(link, wallet=wallet)
    except ValidationError as exc:
        return _render_scan(request, wallet, ScanForm(initial={"link": link}), exc.messages)
    form = AmountForm(request.POST)
    if form.is_valid():
        amount = form.cleaned_data["amount"]
        if amount is None and scan.fixed_amount is None:
            form.add_error("amount", _("Enter the amount."))
        else:
            try:
                quote = codes.scan_quote(wallet=wallet, scan=scan, amount=amount)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                token = services.transfer_token_new(wallet=wallet, quote=quote)
                return _render_check(request, quote, token, wallet, link=scan.link)
    return _render_amount(request, scan, form, wallet)


def _confirm_by_qr(request, wallet):
    """The check page of a transfer by QR code: «Назад» to its amount, or «Перевести» (the
    code's fixed amount holds: another amount is refused, `amount_fixed`)."""
    link = request.POST.get("link", "")[:5000]
    token = request.POST.get("token", "")
    try:
        scan = codes.scan_resolve(link, wallet=wallet)
    except ValidationError as exc:
        return _render_scan(request, wallet, ScanForm(initial={"link": link}), exc.messages)
    raw_amount = request.POST.get("amount", "")[:30]
    if request.POST.get("action") == "back":
        form = AmountForm(initial={"link": scan.link, "amount": raw_amount})
        return _render_amount(request, scan, form, wallet)
    form = ConfirmForm(request.POST)
    back = AmountForm({"link": scan.link, "amount": raw_amount})
    back.is_valid()
    if not form.is_valid():
        if "amount" not in form.errors:  # the amount's own message is on the form already
            back.add_error(None, _("The transfer form was changed. Check the transfer again."))
        return _render_amount(request, scan, back, wallet)
    data = form.cleaned_data
    try:
        qr_services.amount_of_code(scan.fixed_amount, data["amount"])
        operation = services.transfer_create(
            wallet=wallet, number=scan.recipient.number, amount=data["amount"], token=token
        )
    except ValidationError as exc:
        _add_errors(back, exc)  # refused (fixed amount, out of date, balance): nothing moved
        return _render_amount(request, scan, back, wallet)
    return redirect(operation)


# --- «Мой QR» ---


def _requested(request) -> tuple[RequestForm, int | None]:
    form = RequestForm(request.GET or None)
    if request.GET and form.is_valid():
        return form, form.cleaned_data["amount"]
    return form, None


@login_required
@require_GET
def my_qr(request):
    """«Мой QR»: the wallet's personal static code (the payer enters the amount), or, with
    ?amount=, a request for that amount (fixed in the code) and its share link."""
    wallet = _wallet(request)
    form, amount = _requested(request)
    link = codes.wallet_link(wallet, amount=amount)
    title = _("QR code of the wallet %(number)s") % {"number": wallet.number}
    query = f"?{request.GET.urlencode()}" if amount is not None else ""
    return render(
        request,
        "transfers/my_qr.html",
        {
            "wallet": wallet,
            "owner_name": short_name(wallet.user) if wallet.user.full_name.strip() else "",
            "form": form,
            "amount": amount,
            "link": link,
            "svg": images.render_svg(link, title=title, fluid=True),
            "share": request.build_absolute_uri(codes.share_path(link)) if amount else "",
            "query": query,
        },
    )


def _my_qr_file(request, kind: str) -> HttpResponse:
    wallet = _wallet(request)
    form, amount = _requested(request)
    if request.GET and amount is None and form.errors:
        raise Http404  # a download link is only ever drawn with a valid amount
    link = codes.wallet_link(wallet, amount=amount)
    if kind == "png":
        response = HttpResponse(images.render_png(link), content_type="image/png")
    else:
        body = images.render_svg(link, scale=8)
        response = HttpResponse(body, content_type="image/svg+xml; charset=utf-8")
    name = f"kapchyk-qr-{wallet.number.removeprefix('+')}"
    if amount is not None:
        name += f"-{amount}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response


@login_required
@require_GET
def my_qr_png(request):
    return _my_qr_file(request, "png")


@login_required
@require_GET
def my_qr_svg(request):
    return _my_qr_file(request, "svg")
