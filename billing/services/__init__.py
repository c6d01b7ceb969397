"""Payments from a wallet to a provider, on the shared operation life cycle
(wallets.operations): quote → one-time token → one durable transaction → settlement →
receipt and SMS.

- intake: the quote (our rules, the fee, the provider's check), the token, the holder's
  seal and payment_create (the payment, its hold and — for an internal provider — its
  settlement and SMS, in one commit);
- settlement: attempts through a gateway (claimed, sent, recorded as rows), succeed, fail,
  staff's retry and refund, the sweep and the task;
- favourites: saved templates («Избранное»);
- texts: what the payer is told by SMS.

Ledger keys of a payment (Payment.ledger_key): payment:<code>:hold (wallet → suspense, the
total), :settle (suspense → provider, the amount), :fee (suspense → fees, the fee),
:refund (suspense → wallet, the total). Each is moved at most once.
"""

from .favourites import (
    FAVOURITES_PER_USER,
    favourite_create,
    favourite_delete,
    favourite_rename,
)
from .intake import (
    Quote,
    holder_seal,
    holder_unseal,
    payment_create,
    payment_quote,
    payment_token_new,
)
from .settlement import (
    LIFECYCLE,
    payment_attempt,
    payment_fail,
    payment_refund,
    payment_retry,
    payment_succeed,
    payments_sweep,
    retry_delay,
)
from .texts import payment_sms_text

__all__ = [
    "FAVOURITES_PER_USER",
    "LIFECYCLE",
    "Quote",
    "favourite_create",
    "favourite_delete",
    "favourite_rename",
    "holder_seal",
    "holder_unseal",
    "payment_attempt",
    "payment_create",
    "payment_fail",
    "payment_quote",
    "payment_refund",
    "payment_retry",
    "payment_sms_text",
    "payment_succeed",
    "payment_token_new",
    "payments_sweep",
    "retry_delay",
]
