"""Linking a card by a held amount, over real HTTP against the reference acquirer."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cards import services
from cards.models import Card
from cards.reference import FAULTS
from tests.factories import PASSWORD
from wallets import operations

from .conftest import (
    CVV,
    ELCART,
    EXPIRED,
    EXPIRY,
    MASTERCARD,
    NO_MONEY,
    SILENT,
    VISA,
    clean,
    held_on_statement,
    link,
    start,
    statement,
)

pytestmark = pytest.mark.django_db


def codes(exc) -> set:
    return operations.codes_of(exc.value)


def other_amount(acquirer, number) -> str:
    held = acquirer.held_amount(number)
    wrong = held + 1 if held < 9_99 else held - 1
    return f"{wrong // 100},{wrong % 100:02d}"


@pytest.mark.parametrize("number", [ELCART, VISA, MASTERCARD])
def test_link_each_brand(wallet, acquirer, django_capture_on_commit_callbacks, number):
    card = link(wallet, acquirer, django_capture_on_commit_callbacks, number)
    assert card.masked == number[:6] + "******" + number[-4:]
    assert card.brand == {ELCART: "elcart", VISA: "visa", MASTERCARD: "mastercard"}[number]
    assert (card.exp_month, card.exp_year, card.name) == (12, 2030, "Зарплата")
    assert card.token.startswith("tok_")
    assert (card.amount_hash, card.amount_salt) == ("", "")
    hold = acquirer.operation(card.hold_key)
    assert hold["state"] == "voided"  # the hold is released once linked
    assert acquirer.balance(number) == 50_000_00
    assert "voided" in statement(acquirer, number)


def test_the_amount_is_kept_only_as_a_keyed_hash(wallet, acquirer):
    card = start(wallet)
    held = acquirer.held_amount(ELCART)
    assert 1_00 <= held <= 9_99
    card.refresh_from_db()
    assert card.amount_hash == services.amount_digest(card.amount_salt, held)
    values = [str(v) for v in Card.objects.filter(pk=card.pk).values().first().values()]
    assert str(held) not in values and f"{held // 100},{held % 100:02d}" not in values


@pytest.mark.parametrize("typed", ["7", "7,3", "abc", "-1", "", "10,00", "0,99", "٣,٤٧"])
def test_malformed_held_amounts_cost_no_try(wallet, acquirer, typed):
    card = start(wallet)
    with pytest.raises(ValidationError) as exc:
        services.card_link_confirm(wallet=wallet, card=card, typed=typed)
    assert codes(exc) & {"held_amount_format", "held_amount_range"}
    card.refresh_from_db()
    assert (card.status, card.tries, card.hold_state) == ("linking", 0, "held")


def test_three_wrong_amounts_fail_and_void(wallet, acquirer, django_capture_on_commit_callbacks):
    card = start(wallet)
    wrong = other_amount(acquirer, ELCART)
    for left in (2, 1):
        with pytest.raises(ValidationError) as exc:
            services.card_link_confirm(wallet=wallet, card=card, typed=wrong)
        assert codes(exc) == {"held_amount_wrong"}
        assert f"{left}" in str(exc.value)
        card.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as exc:
        services.card_link_confirm(wallet=wallet, card=card, typed=wrong)
    assert codes(exc) == {"card_tries_over"}
    card.refresh_from_db()
    assert (card.status, card.tries, card.hold_state) == ("failed", 3, "voided")
    assert acquirer.operation(card.hold_key)["state"] == "voided"
    # A fourth try, even with the right amount, is refused: the linking is over.
    with pytest.raises(ValidationError) as exc:
        services.card_link_confirm(wallet=wallet, card=card, typed="5,00")
    assert codes(exc) == {"card_not_linking"}
    # …and the card can be linked again from the start.
    link(wallet, acquirer, django_capture_on_commit_callbacks)


def test_second_linking_while_one_is_open(wallet, acquirer, django_capture_on_commit_callbacks):
    start(wallet)
    with pytest.raises(ValidationError) as exc:
        start(wallet)
    assert codes(exc) == {"card_linking_open"}
    assert len([o for o in acquirer.operations() if o["kind"] == "hold"]) == 1
    Card.objects.all().delete()
    link(wallet, acquirer, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as exc:
        start(wallet)
    assert codes(exc) == {"card_already_linked"}


def test_a_linking_expires_after_48_hours(wallet, acquirer, django_capture_on_commit_callbacks):
    card = start(wallet)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.cards_sweep(now=timezone.now() + datetime.timedelta(hours=47)) == {
            "expired": 0,
            "voided": 0,
        }
        swept = services.cards_sweep(now=timezone.now() + datetime.timedelta(hours=48, seconds=1))
    assert swept["expired"] == 1
    card.refresh_from_db()
    assert (card.status, card.hold_state) == ("expired", "voided")
    assert acquirer.operation(card.hold_key)["state"] == "voided"
    assert acquirer.balance(ELCART) == 50_000_00


@pytest.mark.parametrize("mode", FAULTS)
def test_a_void_without_an_answer_is_retried_by_the_sweep(
    wallet, acquirer, django_capture_on_commit_callbacks, mode
):
    """The right amount links the card; a void that meets any fault stays due (ours) and the
    sweep voids it (idempotent on the hold's key): both sides end voided, nothing moved."""
    card = start(wallet)
    acquirer.fault(mode, times=1, op="void", delay=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        services.card_link_confirm(
            wallet=wallet, card=card, typed=held_on_statement(acquirer, ELCART)
        )
    card.refresh_from_db()
    assert (card.status, card.hold_state) == ("linked", "void_due")
    # Processed on their side and unanswered (slow, drop), or not processed (the others).
    theirs = "voided" if mode in ("slow", "drop") else "held"
    assert acquirer.operation(card.hold_key)["state"] == theirs
    assert services.cards_sweep()["voided"] == 1
    card.refresh_from_db()
    assert card.hold_state == "voided"
    assert acquirer.operation(card.hold_key)["state"] == "voided"
    assert acquirer.held_amount(ELCART) is None
    assert acquirer.balance(ELCART) == 50_000_00
    clean()


@pytest.mark.parametrize(
    ("number", "code", "reason"),
    [
        (NO_MONEY, "card_declined", "insufficient_funds"),
        (EXPIRED, "card_declined", "expired_card"),
        (SILENT, "acquirer_unavailable", "issuer_unavailable"),
    ],
)
def test_cards_the_bank_refuses(wallet, acquirer, number, code, reason):
    with pytest.raises(ValidationError) as exc:
        start(wallet, number)
    assert codes(exc) == {code}
    card = Card.objects.get()
    assert (card.status, card.reason) == ("failed", reason)
    assert acquirer.held_amount(number) is None


@pytest.mark.parametrize("mode", FAULTS)
def test_hold_faults(wallet, acquirer, django_capture_on_commit_callbacks, mode):
    """No usable answer to the hold: the linking fails and whatever may be held is voided;
    the acquirer's record ends with nothing held."""
    acquirer.fault(mode, times=1, op="hold", delay=1.0)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as exc:
        start(wallet)
    assert codes(exc) == {"card_declined" if mode == "decline" else "acquirer_unavailable"}
    card = Card.objects.get()
    assert card.status == "failed"
    hold = acquirer.operation(card.hold_key)
    if mode in ("slow", "drop"):  # held on their side, no answer on ours: voided
        assert hold["state"] == "voided"
        assert card.hold_state == "voided"
    else:
        assert hold is None
    assert acquirer.held_amount(ELCART) is None
    assert acquirer.balance(ELCART) == 50_000_00
    clean()


# --- the pages ---

BAD_CARDS = [
    ({"number": "4111 1111 1111 111a"}, "The card number has digits only."),
    ({"number": "411111111111111"}, "The card number has 16 digits."),  # 15
    ({"number": "41111111111111111111"}, "The card number has 16 digits."),  # 20
    ({"number": "4111111111111112"}, "The card number is mistyped: check the digits."),
    ({"expiry": "13/27"}, "The month is from 01 to 12."),
    ({"expiry": "01/20"}, "The card has expired."),
    ({"expiry": "1227"}, "Type the expiry as on the card: MM/YY."),
    ({"cvv": "12"}, "The CVV is the 3 digits on the back of the card."),
    ({"cvv": "12345"}, "The CVV is the 3 digits on the back of the card."),
    ({"name": ""}, "Give the card a name, for example «Salary»."),
]


def _login(client, wallet):
    assert client.login(phone=wallet.user.phone, password=PASSWORD)


@pytest.mark.parametrize(("change", "message"), BAD_CARDS)
def test_bad_card_input(client, wallet, acquirer, change, message, settings):
    settings.LANGUAGE_CODE = "en"
    _login(client, wallet)
    data = {"name": "Зарплата", "number": VISA, "expiry": EXPIRY, "cvv": CVV, **change}
    response = client.post("/cards/add/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Card.objects.exists()
    assert acquirer.operations() == []


def test_an_elcart_card_is_not_refused_on_luhn():
    assert not services.luhn_ok("9417000000000001")
    details = services.card_details_clean(
        number="9417 0000 0000 0001", expiry=EXPIRY, cvv=CVV, name="Элкарт"
    )
    assert details.number == "9417000000000001"


def test_bad_input_in_russian(client, wallet, acquirer):
    _login(client, wallet)
    response = client.post("/cards/add/", {"name": "x", "number": "411", "expiry": "", "cvv": ""})
    assert response.status_code == 200
    assert not Card.objects.exists()
    assert "16" in response.content.decode()


def test_link_through_the_pages(client, wallet, acquirer, django_capture_on_commit_callbacks):
    _login(client, wallet)
    data = {"name": "Зарплата", "number": "9417 0100 0000 0014", "expiry": EXPIRY, "cvv": CVV}
    response = client.post("/cards/add/", data)
    card = Card.objects.get()
    assert response.status_code == 302 and response.url == f"/cards/{card.pk}/confirm/"
    page = client.get(response.url)
    assert "3" in page.content.decode()
    wrong = client.post(response.url, {"amount": other_amount(acquirer, ELCART)})
    assert wrong.status_code == 200
    card.refresh_from_db()
    assert card.tries == 1
    with django_capture_on_commit_callbacks(execute=True):
        right = client.post(response.url, {"amount": held_on_statement(acquirer, ELCART)})
    assert right.status_code == 302 and right.url == "/cards/"
    listing = client.get("/cards/").content.decode()
    assert "941701******0014" in listing and "Зарплата" in listing
    # A stranger sees nothing of it.
    from tests.factories import make_wallet

    stranger = make_wallet()
    client.logout()
    _login(client, stranger)
    assert client.get(f"/cards/{card.pk}/confirm/").status_code == 404
    assert client.post(f"/cards/{card.pk}/remove/").status_code == 404
    assert "0014" not in client.get("/cards/").content.decode()


def test_remove_a_card(client, wallet, acquirer, django_capture_on_commit_callbacks):
    card = link(wallet, acquirer, django_capture_on_commit_callbacks)
    _login(client, wallet)
    assert client.post(f"/cards/{card.pk}/remove/").status_code == 302
    card.refresh_from_db()
    assert card.status == "removed"
    assert "0014" not in client.get("/cards/").content.decode()


def test_list_page_queries(
    client, wallet, acquirer, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    for number in (ELCART, VISA, MASTERCARD):
        link(wallet, acquirer, django_capture_on_commit_callbacks, number)
    _login(client, wallet)
    with django_assert_max_num_queries(10):
        assert client.get("/cards/").status_code == 200


def test_the_housekeeping_loop_runs_the_cards_sweep(wallet, acquirer):
    from config.housekeeping import JOBS

    card = start(wallet)
    Card.objects.filter(pk=card.pk).update(created_at=timezone.now() - datetime.timedelta(hours=49))
    [job] = [job for job in JOBS if job.name == "cards_sweep"]
    assert job.run() == "1 expired, 1 voided, 0 top-ups"
    assert acquirer.operation(card.hold_key)["state"] == "voided"
