"""One way to move money: the life cycle every kind of operation shares.

Bill payments today, QR payments, transfers and card top-ups next, all go the same way:

1. **quote** — the kind's own rules, the fee, the limits. A refusal is a `ValidationError`
   whose entries carry a *code* (`amount_below_min`, `insufficient_funds`, ...) and params:
   the web shows the message, USSD words the code in its own short way (`ussd.texts`).
2. **token** — `token_issue()` renders a one-time token into the confirm page (or keeps it in
   the USSD session). It binds what the page showed: the wallet, the kind, the subject
   (provider and account, recipient, ...), the amount and the fee. `token_open()` at the
   confirm step refuses a forged or expired token, and `Bound.check()` refuses a changed
   amount or subject (`token`) and a changed price (`price_changed`).
3. **one durable transaction** — the operation row (its unique token column makes a
   double click land on the first one) and its first ledger movement (`wallets.ledger.move`),
   the outbound texts (`wallets.sms.sms_queue`) and the tasks (`enqueue()`) commit together.
4. **settlement** — at once, in the same transaction, when the money stays with us; or by
   a gateway in a task, each request and answer an attempt row. Status changes follow one
   table per kind (`Lifecycle`), applied by compare-and-set (`Lifecycle.move()`).
5. **receipt and notifications** — after the commit, never before the money.

A new kind of operation adds only its own model, quote rules and settlement.
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from .money import MAX_AMOUNT, format_som

# --- 1. Quote: refusals as codes ---


def refusal(code: str, message: str, *, field: str = NON_FIELD_ERRORS, **params) -> ValidationError:
    """A refusal of the quote or the confirmation: `message` (already worded in the current
    language) for the web, `code` and `params` for channels that word it themselves."""
    return ValidationError({field: [ValidationError(message, code=code, params=params)]})


def codes_of(error: ValidationError) -> set[str]:
    """Every code a (possibly nested) ValidationError carries."""
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors if e.code}
    return {e.code for e in error.error_list if e.code}


def amount_problems(amount, *, minimum: int = 1, maximum: int = MAX_AMOUNT) -> list:
    """What is wrong with `amount` (tyiyn) for an operation allowing minimum..maximum."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        return [
            ValidationError(
                _("Enter the amount in som with digits, for example 150 or 150,50."),
                code="amount_invalid",
            )
        ]
    if amount <= 0:
        return [ValidationError(_("The amount must be greater than zero."), code="amount_zero")]
    if amount > MAX_AMOUNT:
        return [
            ValidationError(
                _("The amount is too large: at most %(max)s.") % {"max": format_som(MAX_AMOUNT)},
                code="amount_too_large",
                params={"max": MAX_AMOUNT},
            )
        ]
    if amount < minimum:
        return [
            ValidationError(
                _("The minimum amount for this service is %(min)s.") % {"min": format_som(minimum)},
                code="amount_below_min",
                params={"min": minimum, "max": maximum},
            )
        ]
    if amount > maximum:
        return [
            ValidationError(
                _("The maximum amount for this service is %(max)s.") % {"max": format_som(maximum)},
                code="amount_above_max",
                params={"min": minimum, "max": maximum},
            )
        ]
    return []


def insufficient_funds(*, balance: int, total: int) -> ValidationError:
    """The one wording of «not enough money» (web); USSD words the code itself."""
    return refusal(
        "insufficient_funds",
        _(
            "Not enough money in the wallet: the balance is %(balance)s, "
            "the payment with the fee is %(total)s. Top up the wallet and try again."
        )
        % {"balance": format_som(balance), "total": format_som(total)},
        balance=balance,
        total=total,
    )


def _limit_messages():
    return {
        "operation": _(
            "At your identification level one operation may be at most %(left)s. "
            "Raise the level on the Limits page to pay more at once."
        ),
        "out_day": _(
            "The daily limit of your identification level would be exceeded: "
            "%(left)s may still leave the wallet today."
        ),
        "out_month": _(
            "The monthly limit of your identification level would be exceeded: "
            "%(left)s may still leave the wallet this month."
        ),
        "in_month": _(
            "The monthly limit of incoming money of the identification level would be "
            "exceeded: the wallet may still receive %(left)s this month."
        ),
        "balance": _(
            "The wallet would hold more than its identification level allows: it may "
            "receive at most %(left)s more."
        ),
    }


def limit_exceeded(*, limit: str, left: int) -> ValidationError:
    """The one wording of «a limit of the level would be exceeded» (web): which limit
    (wallets.limits.NAMES) and how much is left; USSD words the code itself."""
    return refusal(
        "limit_exceeded",
        _limit_messages()[limit] % {"left": format_som(left)},
        limit=limit,
        left=left,
    )


def limits_check(account, *, out: int = 0, incoming: int = 0, moment=None) -> None:
    """Refuse (limit_exceeded) an operation that takes `out` tyiyn from the wallet of
    `account` (or brings it `incoming`), by its limits and totals as loaded. The quote's
    early answer; the ledger checks again in the transaction that moves the money."""
    from . import limits

    found = limits.refused(
        account, moment=moment, debited=out, credited=incoming, incoming=incoming
    )
    if found:
        raise limit_exceeded(limit=found[0], left=found[1])


# --- 2. The one-time token ---

# How long a confirm page may wait before its button (a used token keeps working forever:
# it only ever leads back to its operation).
TOKEN_MAX_AGE = 60 * 60
TOKEN_MAX_LENGTH = 120
_TOKEN_SALT = "wallets.operation-token"


def subject_digest(*parts) -> str:
    """A short digest of what an operation is for (provider and account, recipient, ...)."""
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Bound:
    """What a token binds: what the confirm page showed."""

    wallet_id: int
    kind: str
    subject: str
    amount: int | None
    fee: int | None

    def check(self, *, subject: str, amount: int, fee: int) -> None:
        """Refuse a confirmation whose operation is not the one the page showed
        (`token`), or whose price changed since (`price_changed`)."""
        if self.amount is None:  # a token that binds the wallet only (no page showed a price)
            return
        if (self.subject, self.amount) != (subject, amount):
            raise _out_of_date()
        if self.fee != fee:
            raise refusal(
                "price_changed",
                _("The price has changed since the confirmation was shown. Check it again."),
                fee=fee,
            )


def token_issue(
    *, wallet, kind: str, subject: str = "", amount: int | None = None, fee: int | None = None
) -> str:
    """A one-time token for a confirm page of `wallet`, valid TOKEN_MAX_AGE seconds, binding
    `subject` (see subject_digest), `amount` and `fee` when given."""
    bound = "" if amount is None else f"{subject}.{amount}.{fee or 0}"
    value = f"{wallet.pk}.{kind}.{secrets.token_urlsafe(9)}.{bound}"
    return signing.TimestampSigner(salt=_TOKEN_SALT).sign(value)


def _out_of_date() -> ValidationError:
    return refusal("token", _("The payment form is out of date. Check the payment again."))


def token_open(*, wallet, kind: str, token) -> Bound:
    """What `token` binds, once its signature, age, wallet and kind are right."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        raise _out_of_date()
    try:
        value = signing.TimestampSigner(salt=_TOKEN_SALT).unsign(token, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise refusal(
            "token_expired", _("The confirmation has expired. Check the payment again.")
        ) from None
    except signing.BadSignature:
        raise _out_of_date() from None
    parts = value.split(".")
    if len(parts) not in (4, 6) or parts[:2] != [str(wallet.pk), kind]:
        raise _out_of_date()
    if len(parts) == 4:
        return Bound(wallet.pk, kind, "", None, None)
    return Bound(wallet.pk, kind, parts[3], int(parts[4]), int(parts[5]))


def token_reused() -> ValidationError:
    return refusal(
        "token_reused",
        _("This confirmation was already used for another payment. Check the payment again."),
    )


# --- 3. Tasks that commit with the operation ---


def enqueue(task, *args, run_after=None) -> None:
    """Enqueue `task` so that it runs only once the current transaction has committed.

    A durable queue (the database backend) takes the task row inside the transaction: the
    operation and its task commit together, in one commit, and a crash can never keep one
    without the other. A backend that runs at once (the embedded default) is called after
    the commit instead. A deferred run on a backend that cannot defer is left to the sweep.
    """
    backend = task.get_backend()
    if run_after is not None:
        if not backend.supports_defer:
            return
        task = task.using(run_after=run_after)
    if _durable_queue(backend):
        task.enqueue(*args)
    else:
        transaction.on_commit(lambda: task.enqueue(*args), robust=True)


def _durable_queue(backend) -> bool:
    return type(backend).__module__.startswith("django_tasks_db")


# --- 4. Status transitions ---


class Lifecycle:
    """The statuses an operation may pass through: `table` maps each status to the ones that
    may follow it. `move()` applies a transition by compare-and-set, so that of two workers
    only one wins; a transition the table does not allow is a programming error."""

    def __init__(self, model, table: dict[str, set[str]]):
        self.model, self.table = model, table

    def sources(self, to: str) -> list[str]:
        return sorted(status for status, nexts in self.table.items() if to in nexts)

    def move(self, pk, *, to: str, sources=None, where=None, **fields) -> bool:
        """`pk` → `to` if its status is one of `sources` (default: every status the table
        lets `to` follow) and it matches the Q `where`; sets `fields` with it."""
        allowed = self.sources(to)
        sources = allowed if sources is None else list(sources)
        if not set(sources) <= set(allowed):
            raise ValueError(f"{self.model.__name__}: {sorted(sources)} → {to} is not allowed")
        queryset = self.model.objects.filter(pk=pk, status__in=sources)
        if where is not None:
            queryset = queryset.filter(where)
        return bool(queryset.update(status=to, **fields))

    def final(self) -> list[str]:
        return sorted(status for status, nexts in self.table.items() if not nexts)

    def claim(self, pk, *, status: str, attempts: int, now, lease, **fields) -> bool:
        """Claim attempt number `attempts` + 1 of `pk` for this worker: compare-and-set on
        its status, the attempt count read and its next attempt being due at `now`, in a
        transaction of its own; the claim holds until `now + lease` (then a crashed worker's
        attempt is due again). The model needs `attempts` and `next_attempt_at` fields."""
        due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
        with transaction.atomic(durable=True):
            return self.move(
                pk,
                to=status,
                sources=[status],
                where=Q(attempts=attempts) & due,
                attempts=attempts + 1,
                next_attempt_at=now + lease,
                **fields,
            )
