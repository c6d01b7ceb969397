import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import ledger, limits, operations, services
from .audit import Origin
from .models import (
    Account,
    AuditLog,
    CashIn,
    Level,
    LevelChange,
    Offer,
    SmsMessage,
    Transfer,
    User,
    Wallet,
)
from .money import format_som, parse_som


class ReadOnlyAdmin(admin.ModelAdmin):
    """Money records are written by services only; the admin shows them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["phone", "email", "full_name", "phone_verified", "is_staff", "date_joined"]
    list_filter = ["is_staff", "is_active", "phone_verified", "language"]
    search_fields = ["phone", "email", "full_name"]
    readonly_fields = ["offer_version", "offer_accepted_at", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["phone", "password", "phone_verified"]}),
        (_("Person"), {"fields": ["full_name", "email", "personal_inn", "language"]}),
        (_("Offer"), {"fields": ["offer_version", "offer_accepted_at"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["phone", "password1", "password2"]})]


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["version", "title_ru", "published_at"]


class CashInForm(forms.Form):
    amount = forms.CharField(label=_("Amount, som"), max_length=20)
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def clean_amount(self):
        return parse_som(self.cleaned_data["amount"])


class LevelForm(forms.Form):
    level = forms.ModelChoiceField(label=_("Identification level"), queryset=Level.objects.all())
    evidence = forms.CharField(
        label=_("Evidence"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("What the level rests on: the document checked, the call, the office."),
    )


@admin.register(Level)
class LevelAdmin(admin.ModelAdmin):
    """Levels are product rules: an edit is copied onto the accounts of its wallets."""

    list_display = [
        "order",
        "name_ru",
        "name_ky",
        "limit_operation",
        "limit_out_day",
        "limit_out_month",
        "limit_in_month",
        "limit_balance",
    ]
    ordering = ["order"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        limits.level_sync(level=obj)

    def has_delete_permission(self, request, obj=None):
        return False  # a wallet's level and its history refer to it


@admin.register(LevelChange)
class LevelChangeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "wallet", "old_level", "new_level", "changed_by"]
    list_filter = ["new_level", "created_at"]
    search_fields = ["wallet__number", "evidence"]
    list_select_related = ["wallet", "old_level", "new_level", "changed_by"]


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdmin):
    list_display = ["number", "user", "level", "balance_display", "created_at"]
    list_filter = ["level"]
    search_fields = ["number", "user__email", "user__full_name"]
    list_select_related = ["account", "user", "level"]
    exclude = ["pin_hash"]

    @admin.display(description=_("balance"))
    def balance_display(self, obj):
        return format_som(obj.account.balance)

    def get_urls(self):
        return [
            path(
                "<int:pk>/cashin/",
                self.admin_site.admin_view(self.cashin_view),
                name="wallets_wallet_cashin",
            ),
            path(
                "<int:pk>/level/",
                self.admin_site.admin_view(self.level_view),
                name="wallets_wallet_level",
            ),
        ] + super().get_urls()

    def level_view(self, request, pk):
        """Raise or lower the wallet's identification level (group «identification»)."""
        if not request.user.has_perm("wallets.set_level"):
            raise PermissionDenied
        wallet = get_object_or_404(Wallet.objects.with_account().select_related("level"), pk=pk)
        form = LevelForm(request.POST or None, initial={"level": wallet.level_id})
        if request.method == "POST" and form.is_valid():
            change = limits.level_set(
                wallet=wallet,
                level=form.cleaned_data["level"],
                evidence=form.cleaned_data["evidence"],
                changed_by=request.user,
                origin=Origin.of_request(request),
            )
            if change is None:
                message = gettext("The wallet is already at this level.")
            else:
                message = gettext("%(wallet)s is now at the level «%(level)s».") % {
                    "wallet": wallet,
                    "level": change.new_level,
                }
            self.message_user(request, message, messages.SUCCESS)
            return redirect(reverse("admin:wallets_wallet_change", args=[wallet.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Identification level of %(wallet)s") % {"wallet": wallet},
            "wallet": wallet,
            "form": form,
            "changes": wallet.level_changes.select_related("old_level", "new_level", "changed_by"),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/wallets/level.html", context)

    def cashin_view(self, request, pk):
        if not request.user.has_perm("wallets.add_cashin"):
            raise PermissionDenied
        wallet = get_object_or_404(Wallet.objects.with_account(), pk=pk)
        form = CashInForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.cashin_create(
                    wallet=wallet,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    created_by=request.user,
                    origin=Origin.of_request(request),
                    key=f"cashin:admin:{request.POST.get('nonce', '')}"
                    if request.POST.get("nonce")
                    else None,
                )
            except ledger.LimitExceeded as exc:
                error = operations.limit_exceeded(limit=exc.limit, left=exc.left)
                form.add_error(None, error.messages[0])
            except (ValidationError, ledger.LedgerError) as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    gettext("%(amount)s credited to %(wallet)s.")
                    % {"amount": format_som(form.cleaned_data["amount"]), "wallet": wallet},
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:wallets_wallet_change", args=[wallet.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Cash-in to %(wallet)s") % {"wallet": wallet},
            "wallet": wallet,
            "form": form,
            "nonce": request.POST.get("nonce") or uuid.uuid4().hex,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/wallets/cashin.html", context)


@admin.register(CashIn)
class CashInAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "wallet", "amount_display", "reason", "created_by"]
    list_filter = ["created_at"]
    search_fields = ["wallet__number", "reason"]
    list_select_related = ["wallet", "created_by"]

    @admin.display(description=_("amount"))
    def amount_display(self, obj):
        return format_som(obj.amount)


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "name", "balance_display"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]

    @admin.display(description=_("balance"))
    def balance_display(self, obj):
        return format_som(ledger.balance_of(obj))


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "debit", "credit", "amount_display", "created_by", "memo"]
    list_filter = ["kind", "created_at"]
    search_fields = ["idempotency_key", "memo", "debit__code", "credit__code"]
    list_select_related = ["debit", "credit", "created_by"]

    @admin.display(description=_("amount"))
    def amount_display(self, obj):
        return format_som(obj.amount)


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "phone", "text", "status", "backend"]
    list_filter = ["status", "backend"]
    search_fields = ["phone"]
    exclude = ["masked"]


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """Who moved money, when and from where: readable, never editable here."""

    list_display = [
        "created_at",
        "actor",
        "action",
        "object_repr",
        "amount_display",
        "channel",
        "ip",
    ]
    list_filter = ["action", "channel", "created_at"]
    search_fields = ["object_repr", "object_id", "actor__phone", "ip"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return "" if obj.amount is None else format_som(obj.amount)
