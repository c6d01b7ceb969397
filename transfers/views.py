from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from wallets.models import Wallet
from wallets.money import format_som
from wallets.services import wallet_open

from . import services
from .forms import ConfirmForm, TransferForm
from .models import WalletTransfer, masked_number, short_name


def _wallet(request) -> Wallet:
    wallet = Wallet.objects.with_account().filter(user=request.user).first()
    return wallet or wallet_open(user=request.user)


@login_required
def start(request):
    """«Переводы»: by phone number (and, later, by QR code)."""
    return render(request, "transfers/start.html", {"wallet": _wallet(request)})


def _render_form(request, form, wallet):
    return render(request, "transfers/form.html", {"form": form, "wallet": wallet})


def _render_check(request, quote, token, wallet, errors=None):
    form = ConfirmForm(
        initial={
            "number": quote.recipient.number,
            "amount": format_som(quote.amount, unit=False),
            "token": token,
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
