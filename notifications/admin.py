from django.contrib import admin

from .models import Notification, PushSubscription


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "text", "read_at"]
    list_filter = ["kind"]
    search_fields = ["user__phone"]
    list_select_related = ["user"]
    readonly_fields = ["user", "kind", "text", "url", "created_at", "read_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    """Seen and deleted by staff (a lost phone), never written: browsers subscribe."""

    list_display = ["created_at", "user", "endpoint", "last_success_at"]
    search_fields = ["user__phone"]
    list_select_related = ["user"]
    # Not the keys: nothing staff need, and the auth secret is the browser's.
    fields = readonly_fields = ["user", "endpoint", "created_at", "last_success_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
