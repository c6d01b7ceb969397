from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Card, TopUp, TopUpAttempt


@admin.register(Card)
class CardAdmin(admin.ModelAdmin):
    list_display = ["__str__", "name", "wallet", "status", "hold_state", "created_at"]
    list_filter = ["status", "hold_state", "brand"]
    # The amount's hash and salt, and the number's fingerprint, are never shown.
    fields = [
        "wallet",
        "name",
        "brand",
        "masked",
        "exp_month",
        "exp_year",
        "token",
        "status",
        "hold_state",
        "tries",
        "reason",
        "created_at",
        "linked_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False


class AttemptInline(admin.TabularInline):
    model = TopUpAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "kind", "sent_at", "duration_ms", "outcome", "reason", "reference"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TopUp)
class TopUpAdmin(admin.ModelAdmin):
    list_display = ["pk", "wallet", "card", "amount", "status", "attempts", "created_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in TopUp._meta.fields]
    inlines = [AttemptInline]
    actions = ["retry"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Ask the acquirer again"), permissions=["retry"])
    def retry(self, request, queryset):
        done = sum(services.topup_retry(topup=t) for t in queryset)
        self.message_user(request, _("%(n)d top-up(s) sent again.") % {"n": done}, messages.INFO)

    def has_retry_permission(self, request):
        return request.user.has_perm("cards.retry_topup")
