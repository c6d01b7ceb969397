import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PeriodForm(forms.Form):
    """A period filter for statements; both ends optional, inclusive."""

    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start of the period is after its end."))
        return data

    # No operation is older or newer than these: a period end past them is no bound at all
    # (and 0001-01-01 or 9999-12-31 would overflow once turned into a moment in UTC).
    EARLIEST = datetime.date(1900, 1, 1)
    LATEST = datetime.date(9000, 12, 31)

    def filter_period(self, queryset, field="created_at"):
        """`queryset` limited to the valid period, whole local days, both ends included."""
        tz = timezone.get_current_timezone()
        start, end = self.cleaned_data.get("date_from"), self.cleaned_data.get("date_to")
        if start and start > self.EARLIEST:
            queryset = queryset.filter(
                **{f"{field}__gte": datetime.datetime.combine(start, datetime.time.min, tz)}
            )
        if end and end < self.LATEST:
            next_day = datetime.datetime.combine(
                end + datetime.timedelta(days=1), datetime.time.min, tz
            )
            queryset = queryset.filter(**{f"{field}__lt": next_day})
        return queryset
