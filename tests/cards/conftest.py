"""Fixtures for the card tests: the reference acquirer as a real HTTP server on 127.0.0.1
(a port of this worktree's range), our settings pointing at it, and helpers that link a
card by reading the held amount from the bank's side, as a person would."""

import re
import urllib.request

import pytest

from cards import services
from cards.models import Card
from cards.reference import ReferenceAcquirer
from tests.factories import make_wallet
from wallets import ledger

ELCART = "9417010000000014"
VISA = "4111111111111111"
MASTERCARD = "5555555555554444"
NO_MONEY = "4000000000009995"
EXPIRED = "4000000000000069"
SILENT = "4000000000000119"
CVV = "862"
EXPIRY = "12/30"
TIMEOUT = 0.5


def _start():
    last = None
    for port in range(9950, 10000):
        try:
            return ReferenceAcquirer(port=port).start()
        except OSError as exc:
            last = exc
    raise last


@pytest.fixture
def acquirer(settings):
    server = _start()
    settings.ACQUIRER_URL = server.url
    settings.ACQUIRER_TIMEOUT = TIMEOUT
    settings.OUTBOUND_ALLOW_PRIVATE = True
    settings.PAYMENT_RETRY_DELAY = 1.0
    settings.CARD_TOPUP_RETRY_BUDGET = 3
    yield server
    server.close()


@pytest.fixture
def wallet(db):
    return make_wallet()


def statement(acquirer, number) -> str:
    """The card holder's bank: the mini-statement page, over HTTP."""
    data = f"number={number}".encode()
    with urllib.request.urlopen(f"{acquirer.url}/bank/statement", data=data, timeout=5) as r:
        return r.read().decode()


def held_on_statement(acquirer, number) -> str:
    """The held amount as the statement shows it: '3,47'."""
    page = statement(acquirer, number)
    rows = re.findall(r"<td class=amount>([0-9]+,[0-9]{2}) KGS</td><td>held</td>", page)
    assert rows, "no hold on the statement"
    return rows[0]


def start(wallet, number=ELCART, name="Зарплата"):
    details = services.card_details_clean(number=number, expiry=EXPIRY, cvv=CVV, name=name)
    return services.card_link_start(wallet=wallet, details=details)


def link(wallet, acquirer, capture, number=ELCART) -> Card:
    """A linked card: started, the held amount read from the bank's statement and typed."""
    card = start(wallet, number)
    with capture(execute=True):
        services.card_link_confirm(
            wallet=wallet, card=card, typed=held_on_statement(acquirer, number)
        )
    card.refresh_from_db()
    assert (card.status, card.hold_state) == (Card.Status.LINKED, Card.Hold.VOIDED)
    return card


def clean():
    assert ledger.check() == []
