import time

from django.conf import settings
from django.shortcuts import render


class RateLimited(Exception):
    """Raised anywhere in a request that hit a limit; answered with the 429 page.

    `message` (optional, translated) says which limit, e.g. an SMS cap."""

    message = ""


class RateLimitedMiddleware:
    """Turns a hit rate limit, ours or allauth's, into a friendly 429 page, never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from allauth.core.exceptions import RateLimited as AllauthRateLimited

        if isinstance(exception, (RateLimited, AllauthRateLimited)):
            reason = getattr(exception, "message", "")
            return render(request, "429.html", {"reason": reason}, status=429)
        return None


NUL = "\x00"


def _has_nul(query_dict) -> bool:
    return any(
        NUL in key or any(NUL in value for value in values) for key, values in query_dict.lists()
    )


class NulBytesRefusedMiddleware:
    """A NUL byte anywhere in the path, the query, a form's fields or a cookie is answered
    with a clear 400 before any view runs. No one types it; PostgreSQL refuses it in text
    (a query with one is a 500 wherever it reaches the database: receipt codes, searches,
    form fields); the whole site is covered here rather than field by field.

    After AuthenticationMiddleware (the page shows the user's language and header)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._refused(request) and not self._tolerated(request):
            return self._answer(request)
        return self.get_response(request)

    @staticmethod
    def _tolerated(request) -> bool:
        """A view that cleans control characters itself (the USSD gateway's callback, whose
        GSM alphabet has '@' as byte 0) says so with `nul_bytes_tolerated = True`."""
        from django.urls import Resolver404, resolve

        if any(NUL in key or NUL in value for key, value in request.COOKIES.items()):
            return False
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return False
        return getattr(match.func, "nul_bytes_tolerated", False)

    @staticmethod
    def _refused(request) -> bool:
        if NUL in request.path or NUL in request.path_info:
            return True
        if _has_nul(request.GET):
            return True
        if any(NUL in key or NUL in value for key, value in request.COOKIES.items()):
            return True
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            try:
                return _has_nul(request.POST)
            except Exception:  # a broken body: Django answers it with its own 400 later
                return False
        return False

    @staticmethod
    def _answer(request):
        from django.conf import settings
        from django.contrib.auth.models import AnonymousUser
        from django.utils.module_loading import import_string
        from django.utils.translation import gettext as _

        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
        if NUL in session_key:
            # The session store would look this key up (and save it) in the database.
            engine = import_string(settings.SESSION_ENGINE + ".SessionStore")
            request.session = engine()
            request.user = AnonymousUser()
        return render(
            request,
            "400.html",
            {"message": _("The request has a character that is not allowed.")},
            status=400,
        )


class PrivatePagesNotStoredMiddleware:
    """A signed-in person's pages (balance, history, statements, receipts, the admin) carry
    `Cache-Control: no-store`: no browser cache, proxy or back button keeps a copy for the
    next person at a shared computer. A page that chose its own Cache-Control keeps it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response


class SessionRefreshMiddleware:
    """Slides a session's idle timeout at most once every SESSION_REFRESH_SECONDS.

    Saving the session on every request (SESSION_SAVE_EVERY_REQUEST) made every page view
    a durable write; the session is saved (and its end pushed SESSION_COOKIE_AGE seconds
    ahead) only when its last push is that old, so a session still ends 15 minutes after
    the last request, give or take a minute.
    """

    KEY = "_refreshed"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not session.accessed or session.is_empty():
            return response
        now = int(time.time())
        last = session.get(self.KEY, 0)
        if not isinstance(last, int) or now - last >= settings.SESSION_REFRESH_SECONDS:
            session[self.KEY] = now
        return response
