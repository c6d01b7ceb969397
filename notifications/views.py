import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .models import Notification
from .push import push_configured
from .services import notifications_mark_read, push_subscribe_save, push_unsubscribe_delete

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
        {
            "page": page,
            "rows": rows,
            "notifications_unread": 0,
            "vapid_public_key": settings.VAPID_PUBLIC_KEY if push_configured() else "",
        },
    )


def _json_body(request) -> dict | None:
    try:
        data = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _refused(message) -> JsonResponse:
    return JsonResponse({"ok": False, "error": str(message)}, status=400)


@require_POST
@login_required
def push_subscribe(request):
    """POST JSON (the browser's PushSubscription.toJSON()): this browser gets Web Push for
    the signed-in owner. CSRF-protected (the X-CSRFToken header)."""
    if not push_configured():
        return JsonResponse({"ok": False, "error": _("Push notifications are off.")}, status=404)
    data = _json_body(request)
    keys = data.get("keys") if data else None
    if not isinstance(keys, dict):
        return _refused(_("This browser's subscription could not be read."))
    saved = push_subscribe_save(
        user=request.user,
        endpoint=str(data.get("endpoint") or ""),
        p256dh=str(keys.get("p256dh") or ""),
        auth=str(keys.get("auth") or ""),
    )
    if saved is None:
        return _refused(_("This browser's subscription could not be read."))
    return JsonResponse({"ok": True})


@require_POST
@login_required
def push_unsubscribe(request):
    """POST JSON {"endpoint": ...}: no more Web Push to this browser (the owner's only)."""
    data = _json_body(request)
    if not data:
        return _refused(_("This browser's subscription could not be read."))
    push_unsubscribe_delete(user=request.user, endpoint=str(data.get("endpoint") or ""))
    return JsonResponse({"ok": True})
