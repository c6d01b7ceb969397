"""Probes for load balancers, orchestrators and monitoring.

/healthz: 200 "ok" when the database answers. /healthz/ledger: 200 "ok" while the last
ledger check (run every few minutes by the housekeeping loop, stored as a HealthSignal row
so that every process sees it) found the books sound; 503 with a short text when it found a
problem, when there is no recent check, or when the database does not answer.

No session, no cookies, no CSRF, no language: a probe every few seconds must not create
sessions or touch anything but one small query.
"""

import datetime
import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from . import ledger
from .models import HealthSignal

logger = logging.getLogger(__name__)
LEDGER = "ledger"


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain")


@csrf_exempt
@never_cache
@require_safe
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("health check: the database does not answer (%s)", type(exc).__name__)
        return _text("database unavailable", 503)
    return _text("ok")


def ledger_check_record(*, now: datetime.datetime | None = None) -> list[ledger.Problem]:
    """Run ledger.check() and store its result as the "ledger" HealthSignal; on a problem,
    log it as an ERROR (each problem on its own line). Returns the problems."""
    problems = ledger.check()
    now = now or timezone.now()
    HealthSignal.objects.update_or_create(
        name=LEDGER,
        defaults={
            "ok": not problems,
            "detail": "\n".join(str(p) for p in problems)[:10_000],
            "checked_at": now,
        },
    )
    for problem in problems:
        logger.error("ledger check: %s", problem)
    if problems:
        logger.error("ledger check failed: %d problem(s)", len(problems))
    return problems


@csrf_exempt
@never_cache
@require_safe
def healthz_ledger(request):
    try:
        signal = HealthSignal.objects.filter(name=LEDGER).first()
    except DatabaseError as exc:
        logger.error("health check: the database does not answer (%s)", type(exc).__name__)
        return _text("database unavailable", 503)
    if signal is None:
        return _text("ledger not checked yet", 503)
    when = signal.checked_at.isoformat(timespec="seconds")
    if not signal.ok:
        found = len(signal.detail.splitlines()) or 1
        return _text(f"ledger check at {when} found {found} problem(s)", 503)
    age = (timezone.now() - signal.checked_at).total_seconds()
    if age > settings.LEDGER_CHECK_MAX_AGE:
        return _text(f"ledger check is stale: the last one was at {when}", 503)
    return _text(f"ok (checked at {when})")
