import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from providers.models import Provider
from wallets.admin import ReadOnlyAdmin
from wallets.audit import Origin
from wallets.money import format_som

from . import services
from .models import Favourite, Payment, PaymentAttempt
from .registry import registry_csv


class QueueFilter(admin.SimpleListFilter):
    """Payments staff must look at: left to them, or pending past their next attempt."""

    title = _("settlement")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("attention", _("needs attention")),
            ("overdue", _("pending, overdue")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "attention":
            return queryset.filter(status=Payment.Status.NEEDS_ATTENTION)
        if self.value() == "overdue":
            late = timezone.now() - datetime.timedelta(minutes=5)
            return queryset.filter(status=Payment.Status.PENDING, next_attempt_at__lt=late)
        return queryset


class RegistryForm(forms.Form):
    provider = forms.ModelChoiceField(label=_("provider"), queryset=Provider.objects.all())
    date = forms.DateField(
        label=_("date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class AttemptInline(admin.TabularInline):
    """Every request to the provider and its answer, in order."""

    model = PaymentAttempt
    extra = 0
    can_delete = False
    fields = ["number", "kind", "sent_at", "duration_ms", "outcome", "result_code", "message"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
    list_filter = [QueueFilter, "status", "channel", "provider", "created_at"]
    list_select_related = ["wallet", "provider"]
    search_fields = ["code", "account", "wallet__number"]
    date_hierarchy = "created_at"
    exclude = ["token"]
    inlines = [AttemptInline]
    actions = ["retry_now", "refund"]
    change_list_template = "admin/billing/payment/change_list.html"

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

    # --- settlement: staff actions on payments the gateway could not finish ---

    def has_retry_permission(self, request):
        return request.user.has_perm("billing.retry_payment")

    def has_refund_permission(self, request):
        return request.user.has_perm("billing.refund_payment")

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        """Send the pay request again (same txn_id) for payments needing attention."""
        origin = Origin.of_request(request)
        done = sum(
            services.payment_retry(payment=payment, actor=request.user, origin=origin)
            for payment in queryset.select_related("provider", "wallet")
        )
        skipped = queryset.count() - done
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(n)d payment sent to the provider again.",
                    "%(n)d payments sent to the provider again.",
                    done,
                )
                % {"n": done},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                gettext("%(n)d skipped: already succeeded or failed.") % {"n": skipped},
                messages.WARNING,
            )

    @admin.action(description=_("Refund to the wallet"), permissions=["refund"])
    def refund(self, request, queryset):
        """Refund payments needing attention — after a confirmation page: only when the
        provider's registry shows it did not receive them."""
        queryset = queryset.select_related("provider", "wallet")
        if request.POST.get("confirmed") != "yes":
            return TemplateResponse(
                request,
                "admin/billing/payment/refund_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": gettext("Refund payments to the wallets?"),
                    "opts": self.model._meta,
                    "payments": list(queryset),
                    "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                    "action": "refund",
                },
            )
        origin = Origin.of_request(request)
        done = sum(
            services.payment_refund(payment=payment, actor=request.user, origin=origin)
            for payment in queryset
        )
        took = queryset.filter(status=Payment.Status.SUCCEEDED, attempt_rows__kind="refund_check")
        took = took.distinct().count()
        skipped = queryset.count() - done - took
        if took:
            self.message_user(
                request,
                gettext(
                    "%(n)d not refunded: the provider says it took the payment; "
                    "it is settled to the provider."
                )
                % {"n": took},
                messages.WARNING,
            )
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(n)d payment refunded to the wallet.",
                    "%(n)d payments refunded to the wallets.",
                    done,
                )
                % {"n": done},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                gettext("%(n)d skipped: only payments that need attention are refunded.")
                % {"n": skipped},
                messages.WARNING,
            )
        return None

    # --- the daily registry of a provider ---

    def get_urls(self):
        urls = [
            path(
                "registry/",
                self.admin_site.admin_view(self.registry_view),
                name="billing_payment_registry",
            ),
        ]
        return urls + super().get_urls()

    def registry_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = RegistryForm(request.GET if "date" in request.GET else None)
        if form.is_bound and form.is_valid():
            provider, day = form.cleaned_data["provider"], form.cleaned_data["date"]
            response = HttpResponse(
                registry_csv(provider=provider, day=day), content_type="text/csv; charset=utf-8"
            )
            name = f"registry-{provider.slug}-{day:%Y%m%d}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        if not form.is_bound:
            yesterday = timezone.localdate() - datetime.timedelta(days=1)
            form = RegistryForm(
                initial={"date": yesterday, "provider": request.GET.get("provider")}
            )
        return TemplateResponse(
            request,
            "admin/billing/payment/registry.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Daily registry of a provider"),
                "opts": self.model._meta,
                "form": form,
            },
        )


@admin.register(Favourite)
class FavouriteAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "provider", "account", "created_at"]
    list_select_related = ["user", "provider"]
    search_fields = ["name", "account", "user__phone"]
