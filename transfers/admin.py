from django.contrib import admin

from .models import WalletTransfer


@admin.register(WalletTransfer)
class WalletTransferAdmin(admin.ModelAdmin):
    """Read-only: a transfer moves money only through transfers.services."""

    list_display = ["created_at", "display_code", "sender", "recipient", "amount", "fee", "channel"]
    list_filter = ["channel", "status"]
    search_fields = ["code", "sender__number", "recipient__number"]
    list_select_related = ["sender", "recipient"]
    readonly_fields = [f.name for f in WalletTransfer._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
