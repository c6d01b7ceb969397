"""Error reporting to Sentry, on only when SENTRY_DSN is set (config/settings.py imports this
module, and with it sentry_sdk, only then).

Nothing secret leaves: `scrub_event` (the SDK's before_send, and before_breadcrumb for
each breadcrumb) walks the whole event — request data, query string, headers, cookies,
extra, contexts, breadcrumbs, log messages and their parameters, exception messages,
stack frames' local variables — and replaces

- the value of any field whose name says it is secret (pin, code, password, token,
  secret, cvv, card, pan, otp, authorization, cookie, session, the SMS text ...);
- inside any text: card-number-like digit runs (13–19 digits, spaces or dashes between),
  «code 123456» / «PIN: 1234» / «cvv=123» / «password=...» in Russian, Kyrgyz and English,
  HTTP Basic/Bearer credentials;

with FILTERED. Cookies and the raw body are dropped whole. It is a pure function of the
event: tested as one, and over HTTP against a local DSN endpoint.
"""

import re

FILTERED = "[Filtered]"

# Field names (any case; "-" and "_" alike) whose value is never sent.
_SECRET_NAME = re.compile(
    r"pin|passw|pwd|secret|token|otp|totp|cvv|cvc|csc|card|pan\b|^pan|iban|auth|cookie|"
    r"session|csrf|signature|api.?key|private|credential|code|^text$|^sms|^body$|^key$|"
    r"idempotency",
    re.IGNORECASE,
)
# Names that contain one of those words but hold nothing secret.
_PUBLIC_NAMES = frozenset({"status_code", "error_code", "result_code", "lineno", "code_context"})

# A card number: 13 to 19 digits, optionally grouped by spaces or dashes.
_PAN = re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9]){12,18}(?![0-9])")
# A secret named in the text, then its value: «код 123456», «PIN: 1234», «cvv=123»,
# «password=hunter2», «пин-код 4826», «коду 1234», «token: abc».
_NAMED_SECRET = re.compile(
    r"(?P<name>\b(?:pin(?:[\s_-]?code)?|пин(?:[\s-]?код\w*)?|code|код\w*|otp|cvv2?|cvc2?|"
    r"password|passwd|pwd|пароль\w*|сырсөз\w*|token|secret|секрет\w*))"
    r"(?P<sep>[\"']?\s*[:=]\s*[\"']?|\s+)(?P<value>[^\s&;,\"']+)",
    re.IGNORECASE,
)
# A receipt's address holds its payment code: /pay/receipt/<code>/.
_RECEIPT = re.compile(r"(/receipt/)[^/?#\s]+")
_AUTH_HEADER = re.compile(r"\b(Basic|Bearer|Token|Digest)\s+[A-Za-z0-9+/=._~\-]+", re.IGNORECASE)


def _secret_name(name) -> bool:
    text = str(name)
    return text.lower() not in _PUBLIC_NAMES and bool(_SECRET_NAME.search(text))


def _named_secret(match) -> str:
    value = match.group("value")
    if value.startswith(FILTERED):
        return match.group(0)
    tail = value[len(value.rstrip(".)]»\"'")) :]  # the sentence goes on after the secret
    return f"{match.group('name')}{match.group('sep')}{FILTERED}{tail}"


def scrub_text(text: str) -> str:
    """`text` with card numbers, named secrets and credentials replaced by FILTERED."""
    if not text:
        return text
    text = _RECEIPT.sub(rf"\1{FILTERED}", text)
    text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)} {FILTERED}", text)
    text = _NAMED_SECRET.sub(_named_secret, text)
    return _PAN.sub(FILTERED, text)


def scrub(value, depth=0):
    """Any JSON-like value, scrubbed: secret-named fields filtered, every text scrubbed."""
    if depth > 20:
        return FILTERED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {
            key: FILTERED if _secret_name(key) else scrub(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        # Pairs such as headers or query items: [name, value].
        if len(value) == 2 and isinstance(value[0], str) and _secret_name(value[0]):
            return [value[0], FILTERED]
        return [scrub(item, depth + 1) for item in value]
    return value


def _scrub_request(request: dict) -> dict:
    request = dict(request)
    request.pop("cookies", None)
    headers = request.get("headers")
    if isinstance(headers, dict):
        request["headers"] = {
            name: FILTERED if _secret_name(name) else scrub_text(str(value))
            for name, value in headers.items()
        }
    if isinstance(request.get("data"), (str, bytes)):
        request["data"] = FILTERED  # a raw body: nothing in it is worth the risk
    return scrub(request)


def scrub_event(event, hint=None):
    """The SDK's before_send: the event without secrets (a new dict; never None)."""
    event = dict(event)
    if isinstance(event.get("request"), dict):
        event["request"] = _scrub_request(event["request"])
    user = event.pop("user", None)
    if isinstance(user, dict) and user.get("id") is not None:
        event["user"] = {"id": user["id"]}  # the id only: no number, e-mail or address
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        # The parameters alone (a bare "123456") say nothing of what they are: only the
        # formatted message, scrubbed as a whole, and the template go.
        event["logentry"] = {
            key: logentry[key] for key in ("message", "formatted") if logentry.get(key)
        }
    for key in list(event):
        if key == "request":
            continue
        event[key] = scrub(event[key])
    return event


def scrub_breadcrumb(crumb, hint=None):
    return scrub(dict(crumb))


def init_sentry(*, dsn: str, environment: str = "", release: str = "", **options) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        release=release or None,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        # The SDK's own scrubber too, with our names (before ours runs).
        event_scrubber=EventScrubber(
            denylist=[*DEFAULT_DENYLIST, "pin", "code", "cvv", "cvc", "otp", "card", "pan"],
            recursive=True,
        ),
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        before_breadcrumb=scrub_breadcrumb,
        max_request_body_size="small",
        **options,
    )
