"""Gateways: how Kapchyk talks to a provider. Two operations:

- `check(provider, account=, amount=)` on «Далее»: is this account payable, and whose is it;
- `pay(payment)` for a payment whose money is already held in suspense (the hold committed).

Both return an `Outcome`:

- SUCCEEDED: check — the account is payable (`holder` may name its owner); pay — the provider
  took the money (`reference` is its own transaction id);
- FAILED: a final refusal (`code` is the provider's result code): a payment is refunded;
- RETRY: nothing is known yet (temporary error, timeout, connection refused, HTTP 5xx, an
  unreadable answer): ask again later with the same txn_id;
- UNSURE: the provider answered something that contradicts our record (a different sum for
  our txn_id): staff must look before any money moves.

A gateway never touches the database or the ledger, and refuses to be called inside a
transaction, so a slow provider never holds a lock.

Implementations: "internal" (the provider's account is ours: settled at once) and "osmp",
the check/pay protocol of QIWI-style aggregators (HTTP GET with command=check|pay, txn_id,
account, sum, txn_date; an XML answer with a result code).
"""

import logging
import re
import secrets
import urllib.parse
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Protocol

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.db import connections
from django.utils import timezone

from config import http

logger = logging.getLogger(__name__)


class Status:
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    RETRY = "retry"
    UNSURE = "unsure"


@dataclass(frozen=True)
class Outcome:
    status: str
    message: str = ""
    reference: str = ""
    code: int | None = None
    holder: str = ""
    fields: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == Status.SUCCEEDED


class Gateway(Protocol):
    name: str
    # True: pay runs in a background task (a network call); False: at once, in the request.
    asynchronous: bool

    def check(self, provider, *, account: str, amount: int) -> Outcome: ...

    def pay(self, payment) -> Outcome: ...


class InternalGateway:
    """The provider's account is ours: every account the rule accepts is payable, and the
    money is there as soon as we move it."""

    name = "internal"
    asynchronous = False

    def check(self, provider, *, account: str, amount: int) -> Outcome:
        return Outcome(Status.SUCCEEDED)

    def pay(self, payment) -> Outcome:
        return Outcome(Status.SUCCEEDED)


# --- OSMP (QIWI-style check/pay) ---

# Result codes of the protocol; only OK and the two temporary ones are not final.
OK = 0
TEMPORARY_ERROR = 1
BAD_ACCOUNT_FORMAT = 4
ACCOUNT_NOT_FOUND = 5
FORBIDDEN_BY_PROVIDER = 7
FORBIDDEN_TECHNICAL = 8
ACCOUNT_NOT_ACTIVE = 79
NOT_FINISHED = 90
AMOUNT_TOO_SMALL = 241
AMOUNT_TOO_LARGE = 242
CANNOT_CHECK = 243
OTHER_ERROR = 300

RETRIED = frozenset({TEMPORARY_ERROR, NOT_FINISHED})

MEANINGS = {
    OK: "OK",
    TEMPORARY_ERROR: "temporary error",
    BAD_ACCOUNT_FORMAT: "bad account format",
    ACCOUNT_NOT_FOUND: "account not found",
    FORBIDDEN_BY_PROVIDER: "payment forbidden by the provider",
    FORBIDDEN_TECHNICAL: "payment forbidden for technical reasons",
    ACCOUNT_NOT_ACTIVE: "account not active",
    NOT_FINISHED: "payment not finished",
    AMOUNT_TOO_SMALL: "amount too small",
    AMOUNT_TOO_LARGE: "amount too large",
    CANNOT_CHECK: "cannot check the account",
    OTHER_ERROR: "other provider error",
}

MAX_ANSWER = 64 * 1024  # bytes: an answer is a few hundred


def som_text(tyiyn: int) -> str:
    """12345 → '123.45' (the protocol's sum: som with 2 decimals, a dot)."""
    return f"{tyiyn // 100}.{tyiyn % 100:02d}"


def parse_sum(text: str) -> int | None:
    """'123.45' → 12345 tyiyn, None when unreadable (ASCII digits only: Decimal reads
    any script's digits)."""
    text = (text or "").strip()
    if not re.fullmatch(r"[0-9]+([.,][0-9]+)?", text):
        return None
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def txn_date(moment) -> str:
    """The pay request's txn_date: YYYYMMDDHHMMSS in the site's time zone."""
    return timezone.localtime(moment).strftime("%Y%m%d%H%M%S")


class Answer:
    """A parsed OSMP answer."""

    def __init__(self, result: int, *, comment="", prv_txn="", osmp_txn_id="", sum_text=""):
        self.result = result
        self.comment = comment
        self.prv_txn = prv_txn
        self.osmp_txn_id = osmp_txn_id
        self.sum_text = sum_text
        self.fields: dict[str, str] = {}

    @property
    def holder(self) -> str:
        for key in ("name", "fio", "holder"):
            if self.fields.get(key):
                return self.fields[key]
        return next(iter(self.fields.values()), "")


class Unreadable(Exception):
    pass


def parse_answer(body: bytes) -> Answer:
    """The XML answer, or Unreadable. A DTD, entities and external references are refused
    by the parser itself (defusedxml), whatever the body's encoding: nothing is expanded."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise Unreadable(f"refused XML: {exc.__class__.__name__}") from None
    except SafeET.ParseError as exc:
        raise Unreadable(f"not XML: {exc}") from None
    if root.tag != "response":
        raise Unreadable(f"root element <{root.tag}>, not <response>")
    result_text = (root.findtext("result") or "").strip()
    if not re.fullmatch(r"[0-9]{1,6}", result_text):  # ASCII digits only: int("٠") is 0
        raise Unreadable(f"result {result_text[:20]!r}")
    answer = Answer(
        int(result_text),
        comment=(root.findtext("comment") or "").strip()[:200],
        prv_txn=(root.findtext("prv_txn") or "").strip()[:64],
        osmp_txn_id=(root.findtext("osmp_txn_id") or "").strip()[:64],
        sum_text=(root.findtext("sum") or "").strip()[:32],
    )
    fields = root.find("fields")
    if fields is not None:
        for item in list(fields)[:20]:
            key = (item.get("name") or item.tag).strip()[:40]
            answer.fields[key] = " ".join((item.text or "").split())[:200]
    return answer


class TransportError(Exception):
    """No usable answer: timeout, refused connection, HTTP error status, unreadable body."""


def _assert_no_transaction():
    # A network call under a transaction would hold its row locks for the call's length.
    # (Test cases wrap each test in a transaction of their own: those do not count.)
    for conn in connections.all(initialized_only=True):
        if any(not getattr(block, "_from_testcase", False) for block in conn.atomic_blocks):
            raise RuntimeError("a provider is never called inside a database transaction")


class OsmpGateway:
    """OSMP check/pay over HTTP GET, basic auth when the provider has a login."""

    name = "osmp"
    asynchronous = True

    def request(self, provider, params: dict) -> Answer:
        """One HTTP GET to the provider: its parsed answer, or TransportError."""
        _assert_no_transaction()
        url = provider.endpoint_url
        if not url or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise TransportError("no http(s) endpoint URL set for the provider")
        query = urllib.parse.urlencode(params)
        url = f"{url}{'&' if '?' in url else '?'}{query}"
        headers = {"Accept": "application/xml, text/xml"}
        if provider.login:
            headers["Authorization"] = http.basic_auth(provider.login, provider.password)
        timeout = float(provider.timeout)
        try:
            # A redirect is an answer (HTTP 30x), never a hop elsewhere with our credentials.
            response = http.request(
                "GET", url, headers=headers, timeout=timeout, max_bytes=MAX_ANSWER
            )
        except http.Timeout:
            raise TransportError(f"no answer in {timeout:g} s") from None
        except http.TooLarge:
            raise TransportError("the answer is too long") from None
        except http.Refused as exc:
            raise TransportError(f"refused: {exc}") from None
        except http.OutboundError as exc:
            message = str(exc)
            if not message.startswith("connection failed"):
                message = f"connection failed: {message}"
            raise TransportError(message) from None
        if not response.ok:
            raise TransportError(f"HTTP {response.status}")
        try:
            return parse_answer(response.body)
        except Unreadable as exc:
            raise TransportError(f"unreadable answer: {exc}") from None

    def check(self, provider, *, account: str, amount: int, txn_id: str = "") -> Outcome:
        params = {
            "command": "check",
            # A check moves nothing and has no payment yet: its id is drawn from a range far
            # above our payments' txn_ids (their primary keys), so the two never meet.
            "txn_id": txn_id or str(10**17 + secrets.randbelow(9 * 10**17)),
            "account": account,
            "sum": som_text(amount),
        }
        try:
            answer = self.request(provider, params)
        except TransportError as exc:
            return Outcome(Status.RETRY, str(exc))
        message = _message(answer)
        if answer.result == OK:
            return Outcome(
                Status.SUCCEEDED, message, code=OK, holder=answer.holder, fields=answer.fields
            )
        status = Status.RETRY if answer.result in RETRIED else Status.FAILED
        return Outcome(status, message, code=answer.result)

    def pay(self, payment) -> Outcome:
        params = {
            "command": "pay",
            "txn_id": str(payment.txn_id),
            "txn_date": txn_date(payment.created_at),
            "account": payment.account,
            "sum": som_text(payment.amount),
        }
        try:
            answer = self.request(payment.provider, params)
        except TransportError as exc:
            return Outcome(Status.RETRY, str(exc))
        message = _message(answer)
        if answer.result in RETRIED:
            return Outcome(Status.RETRY, message, code=answer.result)
        if answer.result != OK:
            return Outcome(Status.FAILED, message, code=answer.result)
        if answer.osmp_txn_id and answer.osmp_txn_id != str(payment.txn_id):
            return Outcome(
                Status.UNSURE,
                f"the answer is for txn_id {answer.osmp_txn_id}, not {payment.txn_id}",
                code=OK,
                reference=answer.prv_txn,
            )
        if answer.sum_text and parse_sum(answer.sum_text) != payment.amount:
            return Outcome(
                Status.UNSURE,
                f"the provider confirmed the sum {answer.sum_text}, ours is "
                f"{som_text(payment.amount)}",
                code=OK,
                reference=answer.prv_txn,
            )
        return Outcome(Status.SUCCEEDED, message, reference=answer.prv_txn, code=OK)


def _message(answer: Answer) -> str:
    meaning = MEANINGS.get(answer.result, "unknown result")
    text = f"result {answer.result}: {meaning}"
    if answer.comment and answer.comment.lower() not in (meaning.lower(), "ok"):
        text += f" ({answer.comment})"
    return text[:255]


GATEWAYS: dict[str, type] = {
    "internal": InternalGateway,
    "osmp": OsmpGateway,
}


def gateway_for(provider) -> Gateway:
    try:
        return GATEWAYS[provider.gateway]()
    except KeyError:
        raise LookupError(f"no gateway {provider.gateway!r} for provider {provider.slug}") from None
