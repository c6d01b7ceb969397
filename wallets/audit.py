"""The audit log of money actions by staff (cash-ins, refunds, retries).

Call `audit_record` inside the transaction that moves the money, so that the action and
its record commit together or not at all:

    with transaction.atomic(durable=True):
        ...move the money...
        audit_record(actor=request.user, action=AuditLog.Action.PAYMENT_REFUND,
                     target=payment, amount=payment.total, details={...},
                     origin=Origin.of_request(request))
"""

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models

from .models import AuditLog, User


@dataclass(frozen=True)
class Origin:
    """Where a staff action came from: the channel ("admin", "command") and the IP."""

    channel: str
    ip: str | None = None

    @classmethod
    def of_request(cls, request, channel: str = "admin") -> "Origin":
        """The client's address as the rate limits see it (ALLAUTH_TRUSTED_PROXY_COUNT)."""
        from allauth.account.adapter import get_adapter

        try:
            ip = get_adapter(request).get_client_ip(request)
        except PermissionDenied:
            ip = None
        return cls(channel=channel, ip=ip)


COMMAND = Origin(channel="command")


def audit_record(
    *,
    actor: User | None,
    action: str,
    origin: Origin,
    target: models.Model | None = None,
    amount: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Write one audit log row: `actor` did `action` to `target` (amount in tyiyn)."""
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        channel=origin.channel,
        ip=origin.ip,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None else "",
        object_repr=str(target)[:200] if target is not None else "",
        amount=amount,
        details=details or {},
    )
