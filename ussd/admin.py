from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import UssdSession


@admin.register(UssdSession)
class UssdSessionAdmin(admin.ModelAdmin):
    """Read-only: who dialled *900#, when, and the step reached (never the state itself:
    it may hold hashes of PINs being changed)."""

    list_display = ["session_id", "phone", "language", "step", "consumed", "closed", "updated_at"]
    list_filter = ["closed", "language"]
    search_fields = ["phone", "session_id"]
    fields = [
        "session_id",
        "phone",
        "language",
        "step",
        "consumed",
        "closed",
        "created_at",
        "updated_at",
        "expires_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("menu step"))
    def step(self, obj):
        return (obj.state or {}).get("step", "")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
