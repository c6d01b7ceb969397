"""Bank cards: linking by a held amount, and top-ups from a linked card.

Linking (card_link_start → card_link_confirm): the acquirer holds a random 1,00–9,99 som on
the card; the person reads it from their bank (mini-statement, SMS) and types it back. The
amount exists in our process only for the length of the hold call: the Card row keeps a
salted HMAC of it (keyed with the site's secret), never the amount, and no page, log or
API of ours shows it. 3 wrong amounts fail the linking; 48 hours (CARD_LINK_TTL) without
the right one expire it (cards_sweep); the hold is then voided, outside any transaction.

Top-up from a card, on the shared life cycle (wallets.operations): topup_quote → a one-time
token bound to the card and the amount → topup_create (the TopUp row and its task, one
durable transaction) → topup_attempt in a task: charge at the acquirer (idempotent on the
top-up's key) or, after no answer, ask its status; each request a TopUpAttempt row; an
approval credits the wallet once (acquiring → wallet, ledger key topup:<pk>:credit); a
decline credits nothing; no answer past CARD_TOPUP_RETRY_BUDGET needs staff attention.
"""

import datetime
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.services.settlement import retry_delay
from wallets import ledger, operations
from wallets.models import Account, Transfer, Wallet

from .gateways import CardDetails, Outcome, Status, acquirer
from .models import TRANSITIONS, Card, TopUp, TopUpAttempt

logger = logging.getLogger(__name__)

MAX_TRIES = 3
HOLD_MIN, HOLD_MAX = 1_00, 9_99
ACQUIRING_CODE = "system:acquiring"

# --- the card's details ---


def luhn_ok(number: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(number)):
        digit = int(char)
        if i % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def brand_of(number: str) -> str | None:
    if number.startswith("9417"):
        return Card.Brand.ELCART
    if number.startswith("4"):
        return Card.Brand.VISA
    if re.match(r"5[1-5]|2(2[2-9]|[3-6][0-9]|7[01]|720)", number):
        return Card.Brand.MASTERCARD
    return None


def mask(number: str) -> str:
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def fingerprint(number: str) -> str:
    return salted_hmac("cards.fingerprint", number, algorithm="sha256").hexdigest()


def card_details_clean(*, number, expiry, cvv, name, today=None) -> CardDetails:
    """The typed card, checked: 16 digits (spaces allowed), a known brand, Luhn for Visa and
    Mastercard (not for Elcart), MM/YY not past, a 3-digit CVV, a name. Raises
    ValidationError({field: [...]}) with codes; the messages never repeat what was typed."""
    today = today or timezone.localdate()
    errors: dict[str, list] = {}

    def refuse(field, code, message):
        errors.setdefault(field, []).append(ValidationError(message, code=code))

    number = re.sub(r"[ \-]", "", str(number or ""))
    if not re.fullmatch(r"[0-9]+", number, re.ASCII):
        refuse("number", "card_number_digits", _("The card number has digits only."))
    elif len(number) != 16:
        refuse("number", "card_number_length", _("The card number has 16 digits."))
    elif brand_of(number) is None:
        refuse(
            "number",
            "card_brand",
            _("Only Элкарт, Visa and Mastercard cards can be linked."),
        )
    elif brand_of(number) != Card.Brand.ELCART and not luhn_ok(number):
        refuse("number", "card_number_luhn", _("The card number is mistyped: check the digits."))
    match = re.fullmatch(r"([0-9]{2}) ?/ ?([0-9]{2})", str(expiry or "").strip(), re.ASCII)
    month = year = 0
    if not match:
        refuse("expiry", "card_expiry_format", _("Type the expiry as on the card: MM/YY."))
    else:
        month, year = int(match[1]), 2000 + int(match[2])
        if not 1 <= month <= 12:
            refuse("expiry", "card_expiry_month", _("The month is from 01 to 12."))
        elif (year, month) < (today.year, today.month):
            refuse("expiry", "card_expired", _("The card has expired."))
    cvv = str(cvv or "").strip()
    if not re.fullmatch(r"[0-9]{3}", cvv, re.ASCII):
        refuse("cvv", "card_cvv", _("The CVV is the 3 digits on the back of the card."))
    name = " ".join(str(name or "").split())[:40]
    if not name:
        refuse("name", "card_name", _("Give the card a name, for example «Salary»."))
    if errors:
        raise ValidationError(errors)
    return CardDetails(number=number, exp_month=month, exp_year=year, cvv=cvv, name=name)


def decline_message(reason: str) -> str:
    messages = {
        "insufficient_funds": _("There is not enough money on the card."),
        "expired_card": _("The bank says the card has expired."),
        "bad_cvv": _("The bank refused the card's details: check the CVV."),
        "unknown_card": _("The bank does not know this card: check the number."),
    }
    return messages.get(reason, _("The bank declined the operation."))


# --- the held amount ---


def amount_digest(salt: str, amount: int) -> str:
    return salted_hmac("cards.held-amount", f"{salt}:{amount}", algorithm="sha256").hexdigest()


def parse_held_amount(raw) -> int:
    """'3,47' or '3.47' → 347. The amount is typed as the bank shows it, with its tyiyn."""
    text = str(raw or "").strip().replace(" ", "")
    match = re.fullmatch(r"([0-9])[.,]([0-9]{2})", text, re.ASCII)
    if not match:
        raise operations.refusal(
            "held_amount_format",
            _("Type the held amount exactly as your bank shows it, with tyiyn: for example 3,47."),
            field="amount",
        )
    value = int(match[1]) * 100 + int(match[2])
    if not HOLD_MIN <= value <= HOLD_MAX:
        raise operations.refusal(
            "held_amount_range",
            _("The held amount is from 1,00 to 9,99 som."),
            field="amount",
        )
    return value


# --- linking ---


def _already(card_status) -> ValidationError:
    if card_status == Card.Status.LINKED:
        return operations.refusal(
            "card_already_linked", _("This card is already linked to your wallet."), field="number"
        )
    return operations.refusal(
        "card_linking_open",
        _("This card is already being linked: type the held amount, or wait until it expires."),
        field="number",
    )


def card_link_start(*, wallet: Wallet, details: CardDetails) -> Card:
    """Start linking `details` to `wallet`: a Card row (linking), then a hold of a random
    1,00–9,99 som at the acquirer under the card's key, outside any transaction.

    Guarantees: one open (linking or linked) card per number and wallet (a database
    constraint); the CVV and full number go to the acquirer only; the amount is kept as a
    salted HMAC. A decline or no answer fails the linking (a hold that may exist is voided)
    and raises ValidationError with the reason; the Card row is returned otherwise.
    """
    print_ = fingerprint(details.number)
    existing = Card.objects.open().filter(wallet=wallet, fingerprint=print_).first()
    if existing is not None:
        raise _already(existing.status)
    amount = HOLD_MIN + secrets.randbelow(HOLD_MAX - HOLD_MIN + 1)
    salt = secrets.token_hex(16)
    card = Card(
        wallet=wallet,
        name=details.name,
        brand=brand_of(details.number),
        masked=mask(details.number),
        exp_month=details.exp_month,
        exp_year=details.exp_year,
        fingerprint=print_,
        amount_salt=salt,
        amount_hash=amount_digest(salt, amount),
    )
    try:
        with transaction.atomic(durable=True):
            card.save(force_insert=True)
    except IntegrityError:
        existing = Card.objects.open().filter(wallet=wallet, fingerprint=print_).first()
        raise _already(existing.status if existing else Card.Status.LINKING) from None
    outcome = acquirer().hold(details, amount, card.hold_key)
    del amount
    logger.info("card %s: hold %s %s", card.pk, outcome.status, outcome.reason)
    if outcome.ok:
        Card.objects.filter(pk=card.pk, status=Card.Status.LINKING).update(
            hold_state=Card.Hold.HELD, token=outcome.token[:64]
        )
        card.refresh_from_db()
        return card
    # Declined: nothing is held. No answer: something may be; the void (idempotent) makes
    # sure it is released, now or by the sweep.
    hold = Card.Hold.NONE if outcome.status == Status.DECLINED else Card.Hold.VOID_DUE
    with transaction.atomic(durable=True):
        Card.objects.filter(pk=card.pk, status=Card.Status.LINKING).update(
            status=Card.Status.FAILED, hold_state=hold, reason=outcome.reason[:100]
        )
        if hold == Card.Hold.VOID_DUE:
            _enqueue_void(card.pk)
    if outcome.status == Status.DECLINED:
        raise operations.refusal("card_declined", decline_message(outcome.reason))
    raise operations.refusal(
        "acquirer_unavailable",
        _("The bank did not answer. Anything held on the card will be released; try again later."),
    )


def _enqueue_void(card_id: int) -> None:
    from .tasks import card_void_task

    operations.enqueue(card_void_task, card_id)


def _expired(card: Card, now) -> bool:
    return card.created_at + datetime.timedelta(seconds=settings.CARD_LINK_TTL) <= now


def card_link_confirm(*, wallet: Wallet, card: Card, typed) -> Card:
    """The person typed the held amount back.

    Guarantees: a malformed amount costs no try (held_amount_format / held_amount_range);
    each wrong one costs one, counted by compare-and-set (two tabs cannot both use the
    last try); the right one links the card, the third wrong one fails it, and either way
    the hold is voided in a task after the commit. Raises ValidationError for anything but
    the right amount; returns the linked card.
    """
    now = timezone.now()
    if card.wallet_id != wallet.pk:
        raise Card.DoesNotExist
    if card.status == Card.Status.LINKING and _expired(card, now):
        _expire(card.pk)
        card.refresh_from_db()
    if card.status != Card.Status.LINKING or card.hold_state != Card.Hold.HELD:
        raise operations.refusal(
            "card_not_linking",
            _("This linking is over. Start again with «Add a card»."),
        )
    value = parse_held_amount(typed)
    right = hmac.compare_digest(card.amount_hash, amount_digest(card.amount_salt, value))
    with transaction.atomic(durable=True):
        mine = Card.objects.filter(pk=card.pk, status=Card.Status.LINKING, tries=card.tries)
        if right:
            moved = mine.update(
                status=Card.Status.LINKED,
                hold_state=Card.Hold.VOID_DUE,
                linked_at=now,
                amount_hash="",
                amount_salt="",
            )
        elif card.tries + 1 >= MAX_TRIES:
            moved = mine.update(
                status=Card.Status.FAILED,
                hold_state=Card.Hold.VOID_DUE,
                tries=F("tries") + 1,
                reason="wrong amount",
                amount_hash="",
                amount_salt="",
            )
        else:
            moved = mine.update(tries=F("tries") + 1)
        if moved and (right or card.tries + 1 >= MAX_TRIES):
            _enqueue_void(card.pk)
    card.refresh_from_db()
    if not moved:  # another request used this try meanwhile
        return card_link_confirm(wallet=wallet, card=card, typed=typed)
    if right:
        return card
    left = MAX_TRIES - card.tries
    if not left:
        raise operations.refusal(
            "card_tries_over",
            _("The amount was wrong 3 times: the card is not linked and the hold is released."),
        )
    raise operations.refusal(
        "held_amount_wrong",
        ngettext(
            "This is not the held amount. %(left)d try left.",
            "This is not the held amount. %(left)d tries left.",
            left,
        )
        % {"left": left},
        field="amount",
        left=left,
    )


def _expire(card_id) -> bool:
    with transaction.atomic(durable=True):
        moved = Card.objects.filter(pk=card_id, status=Card.Status.LINKING).update(
            status=Card.Status.EXPIRED,
            hold_state=Card.Hold.VOID_DUE,
            reason="not confirmed in time",
            amount_hash="",
            amount_salt="",
        )
        if moved:
            _enqueue_void(card_id)
    return bool(moved)


def card_void(*, card: Card) -> bool:
    """Release the card's hold if it is due to be voided (outside any transaction; the
    void is idempotent on the hold's key). True once voided."""
    card = Card.objects.get(pk=card.pk)
    if card.hold_state != Card.Hold.VOID_DUE:
        return card.hold_state == Card.Hold.VOIDED
    outcome = acquirer().void(card.hold_key)
    logger.info("card %s: void %s %s", card.pk, outcome.status, outcome.reason)
    if not outcome.ok:
        return False  # the sweep tries again
    return bool(
        Card.objects.filter(pk=card.pk, hold_state=Card.Hold.VOID_DUE).update(
            hold_state=Card.Hold.VOIDED
        )
    )


def cards_sweep(*, now=None, limit: int = 200) -> dict[str, int]:
    """The background sweep: expire linkings older than CARD_LINK_TTL and void every hold
    that is due to be voided (again, if the acquirer did not answer before)."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.CARD_LINK_TTL)
    stale = Card.objects.filter(status=Card.Status.LINKING, created_at__lte=cutoff)
    expired = sum(_expire(pk) for pk in stale.values_list("pk", flat=True)[:limit])
    due = Card.objects.filter(hold_state=Card.Hold.VOID_DUE).values_list("pk", flat=True)[:limit]
    voided = sum(card_void(card=Card(pk=pk)) for pk in due)
    return {"expired": expired, "voided": voided}


def card_remove(*, wallet: Wallet, card: Card) -> bool:
    """Unlink a card (its row stays for the top-ups that used it)."""
    with transaction.atomic(durable=True):
        return bool(
            Card.objects.filter(pk=card.pk, wallet=wallet, status=Card.Status.LINKED).update(
                status=Card.Status.REMOVED
            )
        )


# --- top-up from a card ---

KIND = "topup"
LIFECYCLE = operations.Lifecycle(TopUp, TRANSITIONS)
PENDING, SUCCEEDED, DECLINED, NEEDS_ATTENTION = (
    TopUp.Status.PENDING,
    TopUp.Status.SUCCEEDED,
    TopUp.Status.DECLINED,
    TopUp.Status.NEEDS_ATTENTION,
)


def acquiring_account() -> Account:
    """The system account card money comes from (the acquirer owes it to us)."""
    return ledger.open_account(
        kind=Account.Kind.CASHIN, code=ACQUIRING_CODE, name="Acquiring (bank cards)"
    )


@dataclass(frozen=True)
class TopUpQuote:
    card: Card
    amount: int
    fee: int
    wallet: Wallet

    @property
    def subject(self) -> str:
        return operations.subject_digest("card", self.card.pk)

    @cached_property
    def balance_after(self) -> int:
        return ledger.balance_of(self.wallet.account) + self.amount - self.fee


def topup_quote(*, wallet: Wallet, card: Card, amount) -> TopUpQuote:
    """Check a top-up of `amount` tyiyn from `card`; moves nothing."""
    if card.wallet_id != wallet.pk or card.status != Card.Status.LINKED:
        raise operations.refusal("card_not_linked", _("This card is not linked to your wallet."))
    problems = operations.amount_problems(
        amount, minimum=settings.CARD_TOPUP_MIN, maximum=settings.CARD_TOPUP_MAX
    )
    if problems:
        raise ValidationError({"amount": problems})
    # The level's incoming and balance limits, before the card is charged (the ledger
    # checks again when it credits; a top-up it refuses then waits for staff, never lost).
    operations.limits_check(wallet.account, incoming=amount)
    return TopUpQuote(card=card, amount=amount, fee=0, wallet=wallet)


def topup_token_new(*, wallet: Wallet, quote: TopUpQuote) -> str:
    return operations.token_issue(
        wallet=wallet, kind=KIND, subject=quote.subject, amount=quote.amount, fee=quote.fee
    )


def _same(existing: TopUp, wallet, card, amount) -> TopUp:
    if (existing.wallet_id, existing.card_id, existing.amount) != (wallet.pk, card.pk, amount):
        raise operations.token_reused()
    return existing


def topup_create(*, wallet: Wallet, card: Card, amount: int, token: str) -> TopUp:
    """«Пополнить»: the TopUp (pending) and the task that charges the card, one commit.

    Guarantees: at most one TopUp per token (a double click or a resubmit returns the
    first); a token bound to another card or amount is refused (`token`), one used for
    another top-up too (`token_reused`). Nothing is credited here: only an approval from
    the acquirer credits the wallet (topup_attempt).
    """
    try:
        bound = operations.token_open(wallet=wallet, kind=KIND, token=token)
        quote = topup_quote(wallet=wallet, card=card, amount=amount)
        bound.check(subject=quote.subject, amount=quote.amount, fee=quote.fee)
    except ValidationError as exc:
        if operations.codes_of(exc) & {"token_expired", "token", "price_changed"}:
            existing = TopUp.objects.filter(token=token).first()
            if existing is not None:
                return _same(existing, wallet, card, amount)
        raise
    now = timezone.now()
    topup = TopUp(wallet=wallet, card=card, amount=amount, fee=0, token=token, next_attempt_at=now)
    try:
        with transaction.atomic(durable=True):
            topup.save(force_insert=True)
            _enqueue_attempt(topup.pk)
    except IntegrityError:
        existing = TopUp.objects.filter(token=token).first()
        if existing is None:
            raise
        return _same(existing, wallet, card, amount)
    topup.refresh_from_db()
    return topup


def _enqueue_attempt(topup_id: int, run_after=None) -> None:
    from .tasks import topup_process

    operations.enqueue(topup_process, topup_id, run_after=run_after)


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.ACQUIRER_TIMEOUT + settings.PAYMENT_LEASE)


def topup_attempt(*, topup: TopUp, now=None) -> TopUp:
    """One request to the acquirer for a pending top-up whose attempt is due.

    Guarantees: claimed first by compare-and-set (pending, the attempt count read, due), so
    two workers never send the same attempt; the first attempt charges, the later ones ask
    the status of our key (and charge, same key, when the acquirer has nothing under it);
    the acquirer is called outside any transaction; the request and answer are a
    TopUpAttempt row, committed with the outcome: succeeded (credited once, whoever heard
    the approval), declined (nothing credited), or pending again after retry_delay() —
    needs attention past CARD_TOPUP_RETRY_BUDGET or on an answer for another amount.
    """
    now = now or timezone.now()
    topup = TopUp.objects.select_related("card", "wallet__account").get(pk=topup.pk)
    if topup.status != PENDING:
        return topup
    attempt = topup.attempts + 1
    claimed = LIFECYCLE.claim(
        topup.pk, status=PENDING, attempts=topup.attempts, now=now, lease=_lease()
    )
    if not claimed:
        topup.refresh_from_db()
        return topup
    topup.attempts = attempt
    outcome, row = _ask(topup, attempt)
    if outcome.ok and outcome.amount is not None and outcome.amount != topup.amount:
        outcome = Outcome(
            Status.UNKNOWN, f"the acquirer charged {outcome.amount}, not {topup.amount}"
        )
        return _postpone(topup, attempt, outcome, row, now, give_up=True)
    if outcome.ok:
        return _succeed(topup, outcome, row)
    if outcome.status == Status.DECLINED:
        return _decline(topup, outcome, row)
    return _postpone(topup, attempt, outcome, row, now)


def _ask(topup: TopUp, number: int) -> tuple[Outcome, TopUpAttempt]:
    gateway = acquirer()
    sent_at, started = timezone.now(), time.monotonic()
    kind = "charge"
    try:
        if number > 1:
            kind = "status"
            outcome = gateway.status(topup.key)
            if outcome.status == Status.NOT_FOUND:
                kind = "charge"
                outcome = gateway.charge(topup.card.token, topup.amount, topup.key)
        else:
            outcome = gateway.charge(topup.card.token, topup.amount, topup.key)
    except Exception as exc:  # a bug must not leave the top-up claimed and unseen
        logger.exception("acquirer error on top-up %s", topup.pk)
        outcome = Outcome(Status.UNKNOWN, f"gateway error: {exc.__class__.__name__}")
    logger.info(
        "top-up %s attempt %s (%s): %s %s", topup.pk, number, kind, outcome.status, outcome.reason
    )
    row = TopUpAttempt(
        topup=topup,
        number=number,
        kind=kind,
        sent_at=sent_at,
        duration_ms=int((time.monotonic() - started) * 1000),
        outcome=outcome.status,
        reason=outcome.reason[:200],
        reference=outcome.reference[:64],
    )
    return outcome, row


def credit_leg(topup: TopUp) -> ledger.Leg:
    return ledger.Leg(
        acquiring_account(),
        topup.wallet.account,
        topup.amount,
        f"{topup.key}:credit",
        Transfer.Kind.CASHIN,
        topup.memo,
    )


def _succeed(topup: TopUp, outcome: Outcome, row=None) -> TopUp:
    with transaction.atomic(durable=True):
        if row is not None:
            row.save()
        if LIFECYCLE.move(
            topup.pk,
            to=SUCCEEDED,
            settled_at=timezone.now(),
            next_attempt_at=None,
            reference=outcome.reference[:64],
            reason="",
        ):
            ledger.move([credit_leg(topup)])
    topup.refresh_from_db()
    return topup


def _decline(topup: TopUp, outcome: Outcome, row=None) -> TopUp:
    with transaction.atomic(durable=True):
        if row is not None:
            row.save()
        LIFECYCLE.move(
            topup.pk,
            to=DECLINED,
            settled_at=timezone.now(),
            next_attempt_at=None,
            reason=outcome.reason[:100],
        )
    topup.refresh_from_db()
    return topup


def _postpone(topup, attempt, outcome, row, now, give_up=False) -> TopUp:
    later = max(now, timezone.now()) + retry_delay(attempt)
    give_up = give_up or attempt >= settings.CARD_TOPUP_RETRY_BUDGET
    mine = {"sources": [PENDING], "where": Q(attempts=attempt), "reason": outcome.reason[:100]}
    with transaction.atomic(durable=True):
        row.save()
        if give_up:
            if LIFECYCLE.move(topup.pk, to=NEEDS_ATTENTION, next_attempt_at=None, **mine):
                logger.warning("top-up %s needs attention: %s", topup.pk, outcome.reason)
        elif LIFECYCLE.move(topup.pk, to=PENDING, next_attempt_at=later, **mine):
            _enqueue_attempt(topup.pk, later)
    topup.refresh_from_db()
    return topup


def topups_sweep(*, now=None, limit: int = 200) -> list[TopUp]:
    """Attempt every pending top-up that is due (the acquirer did not answer before)."""
    now = now or timezone.now()
    pks = TopUp.objects.due(now).order_by("next_attempt_at", "id").values_list("pk", flat=True)
    return [topup_attempt(topup=TopUp(pk=pk), now=now) for pk in pks[:limit]]


def topup_retry(*, topup: TopUp) -> bool:
    """Staff: ask the acquirer about a top-up that needs attention again, now."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        moved = LIFECYCLE.move(
            topup.pk, to=PENDING, sources=[NEEDS_ATTENTION, PENDING], next_attempt_at=now
        )
        if moved:
            _enqueue_attempt(topup.pk)
    return moved


def cards_housekeeping() -> str:
    """For config.housekeeping: the cards sweep and the top-ups sweep, one line."""
    swept = cards_sweep()
    return f"{swept['expired']} expired, {swept['voided']} voided, {len(topups_sweep())} top-ups"
