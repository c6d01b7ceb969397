"""The acquirer gateway: how Kapchyk talks to the bank that processes cards.

    hold(card, amount, key)    block `amount` on the card (`card`: CardDetails, typed once)
    void(hold)                 release the hold made under the key `hold`
    charge(card, amount, key)  take `amount` from the card (`card`: the acquirer's token)
    refund(charge)             give back the charge made under the key `charge`
    status(key)                what became of the operation made under `key`

Every call carries our idempotency key (a repeated call gets the first answer, never a
second hold or charge), is made outside any database transaction (so a slow bank never
holds a lock) through the one outbound HTTP client (config.http: a total timeout, no
redirects), and its answer is an Outcome: SUCCEEDED, DECLINED (with the bank's `reason`)
or UNKNOWN (no usable answer: a timeout, a dropped connection, HTTP 5xx, garbage — retry
with the same key, or ask `status`).

A gateway never touches our database. Implementation: "http", the reference acquirer's
JSON protocol (cards.reference) at settings.ACQUIRER_URL.
"""

import json
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from config import http
from providers.gateways import _assert_no_transaction


class Status:
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    UNKNOWN = "unknown"
    NOT_FOUND = "not_found"  # status(): the acquirer has nothing under that key


@dataclass(frozen=True)
class Outcome:
    status: str
    reason: str = ""  # the bank's reason for a decline; what went wrong for an unknown
    reference: str = ""  # the acquirer's id of the operation
    token: str = ""  # hold: the acquirer's token for the card
    amount: int | None = None  # what the acquirer says the operation was for

    @property
    def ok(self) -> bool:
        return self.status == Status.SUCCEEDED


@dataclass(frozen=True)
class CardDetails:
    """What the person typed. Lives only in memory for the length of one hold call: never
    stored, logged or rendered (its repr hides it, so a traceback cannot show it)."""

    number: str
    exp_month: int
    exp_year: int
    cvv: str
    name: str = ""

    def __repr__(self):
        return f"CardDetails(*{self.number[-4:]})"

    __str__ = __repr__


class Gateway(Protocol):
    @sensitive_variables("card", "payload")
    def hold(self, card: CardDetails, amount: int, key: str) -> Outcome: ...

    def void(self, hold: str) -> Outcome: ...

    def charge(self, card: str, amount: int, key: str) -> Outcome: ...

    def refund(self, charge: str) -> Outcome: ...

    def status(self, key: str) -> Outcome: ...


class HttpAcquirer:
    """The reference acquirer's JSON protocol over HTTP."""

    def __init__(self, url: str | None = None, timeout: float | None = None):
        self.url = (url or settings.ACQUIRER_URL).rstrip("/")
        self.timeout = float(timeout if timeout is not None else settings.ACQUIRER_TIMEOUT)

    @sensitive_variables("card", "payload")
    def hold(self, card: CardDetails, amount: int, key: str) -> Outcome:
        payload = {
            "number": card.number,
            "exp_month": card.exp_month,
            "exp_year": card.exp_year,
            "cvv": card.cvv,
            "name": card.name,
        }
        return self._call("POST", "hold", {"key": key, "card": payload, "amount": amount})

    def void(self, hold: str) -> Outcome:
        return self._call("POST", "void", {"key": f"{hold}:void", "hold": hold})

    def charge(self, card: str, amount: int, key: str) -> Outcome:
        return self._call("POST", "charge", {"key": key, "token": card, "amount": amount})

    def refund(self, charge: str) -> Outcome:
        return self._call("POST", "refund", {"key": f"{charge}:refund", "charge": charge})

    def status(self, key: str) -> Outcome:
        return self._call("GET", "status", {"key": key})

    @sensitive_variables("data", "body")
    def _call(self, method: str, op: str, data: dict) -> Outcome:
        _assert_no_transaction()
        url = f"{self.url}/api/{op}"
        body = None
        if method == "GET":
            from urllib.parse import urlencode

            url = f"{url}?{urlencode(data)}"
        else:
            body = json.dumps(data).encode()
        try:
            response = http.request(
                method,
                url,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                body=body,
                timeout=self.timeout,
                max_bytes=16 * 1024,
            )
        except http.OutboundError as exc:
            return Outcome(Status.UNKNOWN, f"{exc.__class__.__name__}: {exc}"[:200])
        except Exception as exc:  # noqa: BLE001 - its frames hold the card's details
            # Not re-raised: a traceback's locals below here (the request body) would carry
            # the number and CVV into an error report.
            return Outcome(Status.UNKNOWN, f"client error: {exc.__class__.__name__}")
        if not response.ok:
            return Outcome(Status.UNKNOWN, f"HTTP {response.status}")
        try:
            answer = json.loads(response.body)
        except ValueError:
            return Outcome(Status.UNKNOWN, "unreadable answer")
        if not isinstance(answer, dict):
            return Outcome(Status.UNKNOWN, "unreadable answer")
        return _outcome(answer)


def _outcome(answer: dict) -> Outcome:
    result = answer.get("result")
    amount = answer.get("amount")
    fields = {
        "reason": str(answer.get("reason") or "")[:100],
        "reference": str(answer.get("reference") or "")[:64],
        "token": str(answer.get("token") or "")[:64],
        "amount": amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
    }
    if result == "approved":
        return Outcome(Status.SUCCEEDED, **fields)
    if result == "declined":
        return Outcome(Status.DECLINED, **{**fields, "reason": fields["reason"] or "declined"})
    if result == "not_found":
        return Outcome(Status.NOT_FOUND, **fields)
    return Outcome(Status.UNKNOWN, **{**fields, "reason": fields["reason"] or "no answer"})


def acquirer() -> Gateway:
    return HttpAcquirer()
