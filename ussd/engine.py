"""One gateway request → one screen, with the session kept in the database.

The gateway sends every input of the session so far in `text` ("3*3*14"). The session
row counts the inputs already applied (`consumed`): a repeated or late request (no new
input) gets the last screen again, never a second application of an input; new inputs
are applied one by one, and the state is saved after each, so a payment token stored at
the amount step is the one the PIN step pays with — whatever is retried, a payment
happens once. A short lease on the row makes requests of one session take turns.
"""

import datetime
import logging
import re
import secrets
import time

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from wallets.digits import ascii_digits
from wallets.models import User
from wallets.phones import USSD_OPERATORS, normalize_wallet_number, operator_of

from .menu import SENSITIVE_KEYS, Flow
from .models import UssdSession
from .screens import BODY_LIMIT, Screen, compose, shorten
from .texts import language_or_default, text

logger = logging.getLogger(__name__)

SESSION_TTL = datetime.timedelta(seconds=180)
LEASE = datetime.timedelta(seconds=30)
LEASE_WAIT_SECONDS = 8.0
PURGE_AFTER = datetime.timedelta(hours=1)

MAX_TEXT = 2000
MAX_INPUTS = 100
MAX_INPUT = 160
_SESSION_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _end(key: str, language: str | None, **values) -> str:
    return compose(
        shorten(text(key, language_or_default(language), **values), BODY_LIMIT), end=True
    ).render()


def split_inputs(raw: str) -> list[str]:
    """The gateway's `text` → the list of inputs ("" → [], "3*3*14" → ["3", "3", "14"])."""
    raw = _CONTROL.sub("", raw or "")
    if not raw:
        return []
    # A handset or gateway may send other scripts' digits: they mean 0-9 (wallets.digits).
    return [ascii_digits(part).strip()[:MAX_INPUT] for part in raw.split("*")]


def handle(*, session_id: str, phone: str, text: str = "") -> str:
    """Answer one request of the operator's gateway: 'CON …' or 'END …'. Never raises."""
    try:
        return _handle(session_id=session_id or "", phone=phone or "", raw_text=text or "")
    except Exception:
        logger.exception("USSD request failed (session %r)", str(session_id)[:100])
        return _end("error", None)


def _handle(*, session_id: str, phone: str, raw_text: str) -> str:
    try:
        number = normalize_wallet_number(_CONTROL.sub("", phone)[:32])
    except ValidationError:
        return _end("bad_number", None)
    known_language = User.objects.filter(phone=number).values_list("language", flat=True).first()
    if operator_of(number) not in USSD_OPERATORS:
        return _end("not_served", known_language)
    if not _SESSION_ID.match(session_id) or len(raw_text) > MAX_TEXT:
        return _end("error", known_language)
    inputs = split_inputs(raw_text)
    if len(inputs) > MAX_INPUTS:
        return _end("error", known_language)

    now = timezone.now()
    session, created = UssdSession.objects.get_or_create(
        session_id=session_id,
        defaults={
            "phone": number,
            "expires_at": now + SESSION_TTL,
            "language": known_language or "",
        },
    )
    if created:
        UssdSession.objects.filter(expires_at__lt=now - PURGE_AFTER).delete()
    if session.phone != number:
        return _end("error", known_language)

    token = _lease(session)
    if token is None:
        return _end("error", session.language or known_language)
    try:
        session.refresh_from_db()
        return _advance(session, inputs, token, known_language)
    finally:
        UssdSession.objects.filter(pk=session.pk, lock_token=token).update(
            lock_token="", lock_until=None
        )


def _lease(session: UssdSession) -> str | None:
    """Take the session's lease (wait for a twin request to finish); None if it never frees."""
    token = secrets.token_hex(8)
    deadline = time.monotonic() + LEASE_WAIT_SECONDS
    while True:
        now = timezone.now()
        free = Q(lock_until__isnull=True) | Q(lock_until__lt=now)
        if UssdSession.objects.filter(free, pk=session.pk).update(
            lock_token=token, lock_until=now + LEASE
        ):
            return token
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def _advance(session: UssdSession, inputs: list[str], token: str, known_language) -> str:
    now = timezone.now()
    if session.closed:
        return session.last_screen or _end("expired", session.language or known_language)
    if session.expires_at <= now:
        screen = _end("expired", session.language or known_language)
        _save(session, token, state={}, consumed=session.consumed, screen=screen, closed=True)
        return screen
    if session.last_screen and len(inputs) <= session.consumed:
        # A repeated or late request: no new input, the same screen.
        UssdSession.objects.filter(pk=session.pk, lock_token=token).update(
            expires_at=now + SESSION_TTL
        )
        return session.last_screen

    flow = Flow(phone=session.phone, state=dict(session.state), language=session.language)
    consumed = session.consumed
    if not session.last_screen:
        screen = flow.start()
        _save(session, token, state=flow.state, consumed=0, screen=screen.render(), lang=flow.lang)
    else:
        screen = Screen(session.last_screen[4:], end=session.last_screen.startswith("END"))
    for value in inputs[consumed:]:
        if screen.end:
            break
        screen = flow.feed(value)
        consumed += 1
        state = flow.state
        if screen.end:
            state = {"step": "done", "lang": flow.lang}
        _save(
            session,
            token,
            state=state,
            consumed=consumed,
            screen=screen.render(),
            closed=screen.end,
            lang=flow.lang,
        )
    return screen.render()


def _save(session, token, *, state, consumed, screen, closed=False, lang=None) -> None:
    for key in SENSITIVE_KEYS if closed else ():
        state.pop(key, None)
    fields = {
        "state": state,
        "consumed": consumed,
        "last_screen": screen,
        "closed": closed,
        "expires_at": timezone.now() + SESSION_TTL,
        "updated_at": timezone.now(),
    }
    if lang:
        fields["language"] = lang
    UssdSession.objects.filter(pk=session.pk, lock_token=token).update(**fields)
    session.state, session.consumed, session.last_screen, session.closed = (
        state,
        consumed,
        screen,
        closed,
    )


def sessions_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the sessions that expired more than PURGE_AFTER ago; return how many (the
    housekeeping loop runs it; a new session also purges on its way in)."""
    now = now or timezone.now()
    deleted, _ = UssdSession.objects.filter(expires_at__lt=now - PURGE_AFTER).delete()
    return deleted
