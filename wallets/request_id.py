"""A request id for every request: on the response (X-Request-ID) and on every log record.

An incoming X-Request-ID (from a proxy or load balancer) is kept when it looks like an id
(letters, digits, '.', '_', '-', at most 64); anything else is replaced, so that a client
cannot write arbitrary text into the logs. The id lives in a context variable for the
duration of the request; wallets.logging.RequestIdFilter copies it onto log records.
"""

import contextvars
import logging
import re
import time
import uuid

from django.conf import settings

HEADER = "X-Request-ID"
_VALID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_log = logging.getLogger("kapchyk.request")


def current_request_id() -> str | None:
    return _request_id.get()


def _incoming(request) -> str | None:
    value = request.headers.get(HEADER, "")
    return value if _VALID.fullmatch(value) else None


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match:
        return f"/{match.route}"
    if request.path.startswith(settings.STATIC_URL):
        return settings.STATIC_URL  # answered by whitenoise before URL resolving
    return "-"


class RequestIdMiddleware:
    """Assigns the id, answers it in X-Request-ID and writes one access line per request.

    The access line names the URL pattern, not the path: paths can carry secrets (a
    password-reset key), patterns cannot.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = _incoming(request) or uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[HEADER] = request_id
            route = _route(request)
            access_log.info(
                "%s %s %s",
                request.method,
                route,
                response.status_code,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            _request_id.reset(token)
