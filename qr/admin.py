import secrets

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from wallets import ledger
from wallets.admin import ReadOnlyAdmin
from wallets.models import Account
from wallets.money import format_som

from .models import DynamicCode, Merchant, QrPayment


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_ky", "mcc", "active", "takings", "sticker"]
    list_filter = ["active"]
    search_fields = ["name_ru", "name_ky", "mcc"]
    filter_horizontal = ["cashiers"]
    readonly_fields = ["account", "sticker"]
    fields = ["name_ru", "name_ky", "mcc", "active", "cashiers", "account", "sticker"]

    @admin.display(description=_("takings"))
    def takings(self, obj):
        return format_som(ledger.balance_of(obj.account))

    @admin.display(description=_("sticker"))
    def sticker(self, obj):
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">PNG</a>',
            reverse("qr:sticker", args=[obj.pk]),
            _("Print the sticker"),
            reverse("qr:sticker_png", args=[obj.pk]),
        )

    def save_model(self, request, obj, form, change):
        # Its takings' account, opened once with the merchant (wallets.ledger owns accounts).
        if not obj.account_id:
            obj.account = ledger.open_account(
                kind=Account.Kind.PROVIDER,
                code=f"merchant:{secrets.token_hex(6)}",
                name=obj.name_ru[:200],
            )
        super().save_model(request, obj, form, change)


@admin.register(QrPayment)
class QrPaymentAdmin(ReadOnlyAdmin):
    list_display = ["display_code", "created_at", "merchant", "wallet", "amount", "status"]
    list_filter = ["status", "merchant"]
    list_select_related = ["merchant", "wallet"]
    search_fields = ["code", "wallet__number", "transaction_id"]


@admin.register(DynamicCode)
class DynamicCodeAdmin(ReadOnlyAdmin):
    list_display = ["transaction_id", "merchant", "amount", "created_at", "expires_at"]
    list_select_related = ["merchant"]
    search_fields = ["transaction_id"]
