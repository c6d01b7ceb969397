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
