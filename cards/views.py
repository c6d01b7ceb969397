from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from billing.views import _som_value, _wallet
from wallets import ledger
from wallets.device_views import reauthenticate_in_pin_session

from . import services
from .forms import CardForm, HeldAmountForm, TopUpForm
from .models import Card, TopUp


def _own_card(request, pk, wallet) -> Card:
    return get_object_or_404(Card, pk=pk, wallet=wallet)


@login_required
def card_list(request):
    """«Мои карты»: linked cards and linkings waiting for the held amount."""
    wallet = _wallet(request)
    cards = list(Card.objects.for_wallet(wallet).open().order_by("-created_at"))
    return render(request, "cards/list.html", {"cards": cards, "wallet": wallet})


@sensitive_post_parameters("number", "cvv")
@sensitive_variables("details", "form")
@login_required
@reauthenticate_in_pin_session
def card_add(request):
    """«Добавить карту»: name, number, MM/YY, CVV → the acquirer holds an amount."""
    wallet = _wallet(request)
    form = CardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            details = services.card_details_clean(**form.cleaned_data)
            card = services.card_link_start(wallet=wallet, details=details)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("cards:confirm", card.pk)
    return render(request, "cards/add.html", {"form": form}, status=200)


@login_required
def card_confirm(request, pk):
    """Type the held amount back (3 tries)."""
    wallet = _wallet(request)
    card = _own_card(request, pk, wallet)
    if card.status == Card.Status.LINKED and request.method != "POST":
        return redirect("cards:list")
    form = HeldAmountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.card_link_confirm(wallet=wallet, card=card, typed=form.cleaned_data["amount"])
        except ValidationError as exc:
            form.add_error(None, exc)
            card.refresh_from_db()
        else:
            messages.success(request, _("The card is linked."))
            return redirect("cards:list")
    return render(
        request,
        "cards/confirm.html",
        {"card": card, "form": form, "left": services.MAX_TRIES - card.tries},
    )


@login_required
@require_POST
def card_remove(request, pk):
    wallet = _wallet(request)
    card = _own_card(request, pk, wallet)
    if services.card_remove(wallet=wallet, card=card):
        messages.success(request, _("The card is removed."))
    return redirect("cards:list")


def _cards(wallet):
    return list(Card.objects.for_wallet(wallet).linked().order_by("-linked_at", "-id"))


@login_required
def topup(request):
    """«Пополнить» → «С карты»: card and amount → «Далее» → the confirm page."""
    wallet = _wallet(request)
    cards = _cards(wallet)
    if not cards:
        return render(request, "cards/topup_form.html", {"form": None, "wallet": wallet})
    form = TopUpForm(request.POST or None, cards=cards)
    if request.method == "POST" and form.is_valid():
        card = next(c for c in cards if c.pk == form.cleaned_data["card"])
        try:
            quote = services.topup_quote(
                wallet=wallet, card=card, amount=form.cleaned_data["amount"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            token = services.topup_token_new(wallet=wallet, quote=quote)
            return render(
                request,
                "cards/topup_confirm.html",
                {"quote": quote, "token": token, "amount": _som_value(quote.amount)},
            )
    return render(request, "cards/topup_form.html", {"form": form, "wallet": wallet})


@login_required
@require_POST
def topup_confirm(request):
    """«Пополнить» (or «Назад»)."""
    wallet = _wallet(request)
    cards = _cards(wallet)
    form = TopUpForm(request.POST, cards=cards)
    if request.POST.get("action") == "back" or not form.is_valid():
        if not form.is_valid() and request.POST.get("action") != "back":
            return render(request, "cards/topup_form.html", {"form": form, "wallet": wallet})
        return render(
            request,
            "cards/topup_form.html",
            {"form": TopUpForm(initial=request.POST.dict(), cards=cards), "wallet": wallet},
        )
    card = next(c for c in cards if c.pk == form.cleaned_data["card"])
    try:
        topup = services.topup_create(
            wallet=wallet,
            card=card,
            amount=form.cleaned_data["amount"],
            token=request.POST.get("token", ""),
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return render(request, "cards/topup_form.html", {"form": form, "wallet": wallet})
    return redirect("cards:topup_receipt", topup.pk)


@login_required
def topup_receipt(request, pk):
    wallet = _wallet(request)
    topup = get_object_or_404(TopUp.objects.select_related("card"), pk=pk, wallet=wallet)
    reason = services.decline_message(topup.reason) if topup.status == TopUp.Status.DECLINED else ""
    return render(
        request,
        "cards/topup_receipt.html",
        {"topup": topup, "reason": reason, "balance": ledger.balance_of(wallet.account)},
    )
