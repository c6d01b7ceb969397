"""Gateways settle a held payment with the provider.

`billing.services.payment_submit` hands a pending payment (its money already held in
suspense, the hold committed) to the provider's gateway and records the outcome:

- SUCCEEDED: suspense → provider (and fee → fees), SMS with the payment code;
- FAILED: suspense → wallet (refund);
- PENDING: nothing yet; an asynchronous gateway reports later (or a retry asks again).

A gateway never touches the database or the ledger itself, and is called outside any
transaction, so a slow provider never holds a lock.
"""

from dataclasses import dataclass
from typing import Protocol


class Status:
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"


@dataclass(frozen=True)
class Outcome:
    status: str
    message: str = ""
    reference: str = ""


class Gateway(Protocol):
    name: str

    def submit(self, payment) -> Outcome: ...


class InternalGateway:
    """The provider's account is ours: the money is there as soon as we move it."""

    name = "internal"

    def submit(self, payment) -> Outcome:
        return Outcome(Status.SUCCEEDED)


GATEWAYS: dict[str, type] = {
    "internal": InternalGateway,
}


def gateway_for(provider) -> Gateway:
    try:
        return GATEWAYS[provider.gateway]()
    except KeyError:
        raise LookupError(f"no gateway {provider.gateway!r} for provider {provider.slug}") from None
