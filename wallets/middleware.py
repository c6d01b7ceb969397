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
