from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from wallets.admin import ReadOnlyAdmin
from wallets.money import format_som

from .models import Favourite, Payment


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    """Payments are written by billing.services only: the admin shows them."""

    list_display = [
        "code_display",
        "created_at",
        "wallet",
        "provider",
        "account",
        "amount_display",
        "fee_display",
        "total_display",
        "status",
        "channel",
    ]
    list_filter = ["status", "channel", "provider", "created_at"]
    list_select_related = ["wallet", "provider"]
    search_fields = ["code", "account", "wallet__number"]
    date_hierarchy = "created_at"
    exclude = ["token"]

    @admin.display(description=_("payment code"), ordering="code")
    def code_display(self, obj):
        return obj.display_code

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return format_som(obj.amount)

    @admin.display(description=_("fee"), ordering="fee")
    def fee_display(self, obj):
        return format_som(obj.fee)

    @admin.display(description=_("total"), ordering="total")
    def total_display(self, obj):
        return format_som(obj.total)


@admin.register(Favourite)
class FavouriteAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "provider", "account", "created_at"]
    list_select_related = ["user", "provider"]
    search_fields = ["name", "account", "user__phone"]
