"""Top-up from a linked card over real HTTP against the reference acquirer, under every
fault mode: the wallet is credited once (acquiring → wallet) exactly when the acquirer
charged the card, never twice, never lost; ledger_check is clean and the acquirer's record
matches ours."""

import pytest
from django.core.exceptions import ValidationError

from cards import services
from cards.models import TopUp
from tests.factories import PASSWORD
from wallets import ledger, operations
from wallets.models import Transfer

from .conftest import ELCART, clean, link

pytestmark = pytest.mark.django_db

AMOUNT = 500_00


@pytest.fixture
def card(wallet, acquirer, django_capture_on_commit_callbacks):
    return link(wallet, acquirer, django_capture_on_commit_callbacks)


def create(wallet, card, capture, amount=AMOUNT, token=None):
    quote = services.topup_quote(wallet=wallet, card=card, amount=amount)
    token = token or services.topup_token_new(wallet=wallet, quote=quote)
    with capture(execute=True):
        topup = services.topup_create(wallet=wallet, card=card, amount=amount, token=token)
    topup.refresh_from_db()
    return topup


def again(topup, capture):
    """The sweep at the top-up's next attempt time."""
    topup.refresh_from_db()
    assert topup.status == "pending" and topup.next_attempt_at
    with capture(execute=True):
        services.topups_sweep(now=topup.next_attempt_at)
    topup.refresh_from_db()
    return topup


def charges(acquirer, topup):
    return [o for o in acquirer.operations() if o["key"] == topup.key and o["kind"] == "charge"]


def credits(topup):
    return list(
        Transfer.objects.filter(idempotency_key__startswith=f"{topup.key}:").values_list(
            "debit__code", "credit__code", "amount"
        )
    )


def assert_credited(topup, wallet, acquirer):
    topup.refresh_from_db()
    assert topup.status == "succeeded"
    assert ledger.balance_of(wallet.account) == AMOUNT
    assert credits(topup) == [("system:acquiring", wallet.account.code, AMOUNT)]
    [charge] = charges(acquirer, topup)
    assert (charge["state"], charge["amount"], charge["number"]) == ("charged", AMOUNT, ELCART)
    assert topup.reference == f"R{charge['id']:08d}"
    assert acquirer.balance(ELCART) == 50_000_00 - AMOUNT
    clean()


def assert_nothing(topup, wallet, acquirer, status="declined"):
    topup.refresh_from_db()
    assert topup.status == status
    assert ledger.balance_of(wallet.account) == 0
    assert credits(topup) == []
    assert [c for c in charges(acquirer, topup) if c["state"] == "charged"] == []
    assert acquirer.balance(ELCART) == 50_000_00
    clean()


def test_topup_credits_once(wallet, card, acquirer, django_capture_on_commit_callbacks):
    topup = create(wallet, card, django_capture_on_commit_callbacks)
    assert_credited(topup, wallet, acquirer)
    assert list(topup.attempt_rows.values_list("number", "kind", "outcome")) == [
        (1, "charge", "succeeded")
    ]
    # The same token again (a double click, a resubmit): the same top-up, nothing more.
    again_ = services.topup_create(wallet=wallet, card=card, amount=AMOUNT, token=topup.token)
    assert again_.pk == topup.pk
    assert TopUp.objects.count() == 1
    assert_credited(topup, wallet, acquirer)
    with pytest.raises(ValidationError) as exc:
        services.topup_create(wallet=wallet, card=card, amount=AMOUNT + 1, token=topup.token)
    assert operations.codes_of(exc.value) == {"token_reused"}


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "amount_zero"),
        (10**12, "amount_too_large"),
        (5_00, "amount_below_min"),
        (100_000_01, "amount_above_max"),
    ],
)
def test_topup_amount_refused(wallet, card, acquirer, amount, code):
    with pytest.raises(ValidationError) as exc:
        services.topup_quote(wallet=wallet, card=card, amount=amount)
    assert operations.codes_of(exc.value) == {code}
    assert not TopUp.objects.exists()


def test_declined(wallet, card, acquirer, django_capture_on_commit_callbacks):
    acquirer.fault("decline", times=1, op="charge")
    topup = create(wallet, card, django_capture_on_commit_callbacks)
    assert_nothing(topup, wallet, acquirer)
    assert topup.reason == "do_not_honour"


def test_not_enough_on_the_card(wallet, card, acquirer, django_capture_on_commit_callbacks):
    acquirer.db.execute("UPDATE cards SET balance = 100 WHERE number = ?", (ELCART,))
    topup = create(wallet, card, django_capture_on_commit_callbacks)
    topup.refresh_from_db()
    assert (topup.status, topup.reason) == ("declined", "insufficient_funds")
    assert ledger.balance_of(wallet.account) == 0
    assert charges(acquirer, topup)[0]["state"] == "declined"
    clean()


@pytest.mark.parametrize("mode", ["http500", "garbage"])
def test_no_answer_then_charged(wallet, card, acquirer, django_capture_on_commit_callbacks, mode):
    """Not processed on their side: pending; the next attempt asks the status (nothing),
    charges with the same key, and credits once."""
    acquirer.fault(mode, times=1, op="charge")
    topup = create(wallet, card, django_capture_on_commit_callbacks)
    assert topup.status == "pending" and charges(acquirer, topup) == []
    assert ledger.balance_of(wallet.account) == 0
    topup = again(topup, django_capture_on_commit_callbacks)
    assert_credited(topup, wallet, acquirer)
    assert list(topup.attempt_rows.values_list("kind", "outcome")) == [
        ("charge", "unknown"),
        ("charge", "succeeded"),
    ]


@pytest.mark.parametrize("mode", ["drop", "slow"])
def test_charged_without_an_answer(
    wallet, card, acquirer, django_capture_on_commit_callbacks, mode
):
    """Charged on their side, no answer on ours: pending, never credited until the status
    says so, then credited once; the card is charged once."""
    acquirer.fault(mode, times=1, op="charge", delay=1.0)
    topup = create(wallet, card, django_capture_on_commit_callbacks)
    assert topup.status == "pending"
    assert ledger.balance_of(wallet.account) == 0
    assert charges(acquirer, topup)[0]["state"] == "charged"
    topup = again(topup, django_capture_on_commit_callbacks)
    assert_credited(topup, wallet, acquirer)
    assert list(topup.attempt_rows.values_list("kind", "outcome")) == [
        ("charge", "unknown"),
        ("status", "succeeded"),
    ]


@pytest.mark.parametrize("mode", ["http500", "garbage", "slow", "drop"])
def test_the_status_question_without_an_answer(
    wallet, card, acquirer, django_capture_on_commit_callbacks, mode
):
    """Charged on their side, no answer on ours; then the status question meets the fault
    too: still pending, nothing credited; the next one credits once. (A status answered
    "declined" is the acquirer's word on the charge: the decline mode is test_declined's.)"""
    acquirer.fault("drop", times=1, op="charge")
    topup = create(wallet, card, django_capture_on_commit_callbacks)
    acquirer.fault(mode, times=1, op="status", delay=1.0)
    topup = again(topup, django_capture_on_commit_callbacks)
    assert topup.status == "pending"
    assert ledger.balance_of(wallet.account) == 0 and credits(topup) == []
    assert [c["state"] for c in charges(acquirer, topup)] == ["charged"]
    clean()
    topup = again(topup, django_capture_on_commit_callbacks)
    assert_credited(topup, wallet, acquirer)
    assert list(topup.attempt_rows.values_list("kind", "outcome")) == [
        ("charge", "unknown"),
        ("status", "unknown"),
        ("status", "succeeded"),
    ]


def test_past_the_budget_needs_attention(
    wallet, card, acquirer, django_capture_on_commit_callbacks, admin_client
):
    acquirer.fault("http500", op="any")
    topup = create(wallet, card, django_capture_on_commit_callbacks)
    topup = again(topup, django_capture_on_commit_callbacks)
    topup = again(topup, django_capture_on_commit_callbacks)
    assert topup.status == "needs_attention" and topup.attempts == 3
    assert_nothing(topup, wallet, acquirer, status="needs_attention")
    page = admin_client.get("/admin/cards/topup/?status__exact=needs_attention")
    assert page.status_code == 200 and f"/admin/cards/topup/{topup.pk}/" in page.content.decode()
    # The bank is back; staff ask again: charged and credited once.
    acquirer.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.topup_retry(topup=topup)
    assert_credited(topup, wallet, acquirer)


def test_through_the_pages(client, wallet, card, acquirer, django_capture_on_commit_callbacks):
    assert client.login(phone=wallet.user.phone, password=PASSWORD)
    # The cabinet's «Пополнить» → «С карты».
    assert 'href="/cabinet/topup/"' in client.get("/cabinet/").content.decode()
    assert 'href="/cards/topup/"' in client.get("/cabinet/topup/").content.decode()
    zero = client.post("/cards/topup/", {"card": card.pk, "amount": "0"})
    assert zero.status_code == 200 and not TopUp.objects.exists()
    assert "больше нуля" in zero.content.decode()
    page = client.post("/cards/topup/", {"card": card.pk, "amount": "500"})
    html = page.content.decode()
    assert "500,00" in html and "Пополнить" in html
    import re

    token = re.search(r'name="token" value="([^"]+)"', html)[1]
    data = {"card": card.pk, "amount": "500,00", "token": token, "action": "topup"}
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post("/cards/topup/confirm/", data)
    topup = TopUp.objects.get()
    assert done.status_code == 302 and done.url == f"/cards/topup/{topup.pk}/"
    again_ = client.post("/cards/topup/confirm/", data)  # a double click
    assert again_.url == done.url and TopUp.objects.count() == 1
    assert_credited(topup, wallet, acquirer)
    assert "500,00" in client.get(done.url).content.decode()


def test_declined_reason_shown(client, wallet, card, acquirer, django_capture_on_commit_callbacks):
    acquirer.db.execute("UPDATE cards SET balance = 100 WHERE number = ?", (ELCART,))
    topup = create(wallet, card, django_capture_on_commit_callbacks)
    assert client.login(phone=wallet.user.phone, password=PASSWORD)
    page = client.get(f"/cards/topup/{topup.pk}/").content.decode()
    assert services.decline_message("insufficient_funds") in page
