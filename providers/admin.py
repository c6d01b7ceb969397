from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from wallets import ledger
from wallets.models import Account
from wallets.money import format_som, parse_som

from .models import Category, Provider


class SomField(forms.Field):
    """An amount typed in som ("150" or "150,50"), stored as integer tyiyn."""

    widget = forms.TextInput(attrs={"maxlength": 20, "inputmode": "decimal"})

    def __init__(self, *args, allow_zero=False, **kwargs):
        self.allow_zero = allow_zero
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, int):
            return format_som(value, unit=False).replace(" ", "")
        return value

    def to_python(self, value):
        value = str(value if value is not None else "").strip()
        if value in self.empty_values:
            return None
        if self.allow_zero and value.replace(",", ".").strip("0.") == "":
            return 0
        return parse_som(value)


class ProviderForm(forms.ModelForm):
    min_amount = SomField(label=_("Minimum amount, som"))
    max_amount = SomField(label=_("Maximum amount, som"))
    fee_fixed = SomField(label=_("Fixed fee, som"), allow_zero=True)
    # The gateway's password is write-only: never rendered, kept unless a new one is typed.
    new_password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Write-only: type a new one to set it; leave empty to keep the saved one."),
    )
    clear_password = forms.BooleanField(label=_("Remove the saved password"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # An internal provider needs neither: empty means the default.
        for name in ("timeout", "retry_budget"):
            if name in self.fields:
                self.fields[name].required = False
        if self.instance.pk and self.instance.password:
            self.fields["new_password"].help_text = _(
                "A password is saved (not shown). Type a new one to replace it; leave empty "
                "to keep it."
            )

    def clean_timeout(self):
        value = self.cleaned_data.get("timeout")
        return Provider._meta.get_field("timeout").default if value is None else value

    def clean_retry_budget(self):
        value = self.cleaned_data.get("retry_budget")
        return Provider._meta.get_field("retry_budget").default if value is None else value

    def save(self, commit=True):
        if self.cleaned_data.get("new_password"):
            self.instance.password = self.cleaned_data["new_password"]
        elif self.cleaned_data.get("clear_password"):
            self.instance.password = ""
        return super().save(commit)

    class Meta:
        model = Provider
        fields = [
            "category",
            "slug",
            "name_ru",
            "name_ky",
            "ussd_name",
            "logo",
            "position",
            "account_label_ru",
            "account_label_ky",
            "account_hint_ru",
            "account_hint_ky",
            "account_regex",
            "account_validators",
            "min_amount",
            "max_amount",
            "fee_fixed",
            "fee_percent",
            "gateway",
            "endpoint_url",
            "login",
            "timeout",
            "retry_budget",
            "ussd_number",
            "active",
        ]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name_ru", "name_ky", "slug", "position", "ussd_number", "provider_count"]
    list_editable = ["position"]
    search_fields = ["name_ru", "name_ky", "slug"]
    ordering = ["position", "name_ru"]
    prepopulated_fields = {"slug": ["name_ru"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(provider_total=Count("providers"))

    @admin.display(description=_("providers"), ordering="provider_total")
    def provider_count(self, obj):
        return obj.provider_total


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    form = ProviderForm
    list_display = [
        "name_ru",
        "name_ky",
        "category",
        "ussd_number",
        "min_display",
        "max_display",
        "fee_display",
        "gateway",
        "active",
    ]
    list_filter = ["active", "category", "gateway"]
    list_select_related = ["category"]
    search_fields = ["name_ru", "name_ky", "ussd_name", "slug"]
    ordering = ["category__position", "position", "name_ru"]
    readonly_fields = ["account_display"]
    fieldsets = [
        (None, {"fields": ["category", "slug", "name_ru", "name_ky", "ussd_name", "logo"]}),
        (
            _("Account"),
            {
                "fields": [
                    "account_label_ru",
                    "account_label_ky",
                    "account_hint_ru",
                    "account_hint_ky",
                    "account_regex",
                    "account_validators",
                ]
            },
        ),
        (
            _("Amounts and fee"),
            {"fields": ["min_amount", "max_amount", "fee_fixed", "fee_percent"]},
        ),
        (
            _("Channels"),
            {"fields": ["position", "ussd_number", "active", "account_display"]},
        ),
        (
            _("Gateway"),
            {
                "fields": [
                    "gateway",
                    "endpoint_url",
                    "login",
                    "new_password",
                    "clear_password",
                    "timeout",
                    "retry_budget",
                ]
            },
        ),
    ]
    change_form_template = "admin/providers/provider/change_form.html"

    @admin.display(description=_("minimum"), ordering="min_amount")
    def min_display(self, obj):
        return format_som(obj.min_amount)

    @admin.display(description=_("maximum"), ordering="max_amount")
    def max_display(self, obj):
        return format_som(obj.max_amount)

    @admin.display(description=_("fee"))
    def fee_display(self, obj):
        return f"{format_som(obj.fee_fixed)} + {obj.fee_percent}%"

    @admin.display(description=_("ledger account"))
    def account_display(self, obj):
        if not obj or not obj.account_id:
            return _("opened when the provider is saved")
        return f"{obj.account.code}: {format_som(ledger.balance_of(obj.account))}"

    def save_model(self, request, obj, form, change):
        if not obj.account_id:
            obj.account = ledger.open_account(
                kind=Account.Kind.PROVIDER, code=f"provider:{obj.slug}", name=obj.name_ru
            )
        super().save_model(request, obj, form, change)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        sample = request.GET.get("try_account")
        provider = self.get_object(request, object_id)
        if sample is not None and provider is not None:
            extra_context["try_account"] = sample[:100]
            extra_context["try_results"] = try_account(provider, sample[:100])
        return super().change_view(request, object_id, form_url, extra_context)


def try_account(provider: Provider, sample: str) -> list[dict]:
    """How `sample` fares against the provider's rule, with the messages in each language."""
    results = []
    for code, name in (("ru", "Русский"), ("ky", "Кыргызча")):
        with translation.override(code):
            try:
                normalised = provider.validate_account(sample)
            except ValidationError as exc:
                results.append({"language": name, "ok": False, "messages": exc.messages})
            else:
                results.append({"language": name, "ok": True, "value": normalised})
    return results
