from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from .models import Notification
from .services import notifications_mark_read

PER_PAGE = 30


@login_required
def notification_list(request):
    """The signed-in person's notifications, newest first; the ones shown are marked read
    (the page still shows which were new)."""
    queryset = Notification.objects.for_user(request.user)
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    unread = [row.pk for row in rows if row.unread]
    if unread:
        notifications_mark_read(user=request.user, ids=unread)
    return render(
        request,
        "notifications/list.html",
        # The bell of this page already counts the ones just read.
        {"page": page, "rows": rows, "notifications_unread": 0},
    )
