"""Bank cards in a real browser, in ru and ky on a 360×640 phone (issue 14): «Мои карты» →
«Добавить карту» → the Элкарт test card; the held amount is read, as a person would, from the
card holder's bank — the reference acquirer (`manage.py reference_acquirer`, its own process
on a free port) at /bank/ — and typed back; then «Пополнить с карты» 500 som. Every page of
ours: axe-core 0 violations, no sideways scrolling, a clean console, the weight budget."""

import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from cards.models import Card, TopUp
from tests.e2e.conftest import PHONE, ROOT
from tests.e2e.pages import CAPTIONS, Checker, sign_in, tr, words
from tests.factories import make_wallet
from wallets import ledger

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalogue")]

ELCART = "9417 0100 0000 0014"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def acquirer_process():
    """`manage.py reference_acquirer` on a free port (its cards fresh: one per test),
    answering before the test starts."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "manage.py", "reference_acquirer", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(url + "/bank/", timeout=2):
                    break
            except OSError:
                assert process.poll() is None, "the reference acquirer stopped"
                time.sleep(0.2)
        else:
            pytest.fail("the reference acquirer did not answer")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def acquirer(settings, acquirer_process):
    """The live server's settings point at the acquirer (same process: the test's settings)."""
    settings.ACQUIRER_URL = acquirer_process
    settings.ACQUIRER_TIMEOUT = 5.0
    settings.OUTBOUND_ALLOW_PRIVATE = True
    return acquirer_process


def bank_statement(page, url):
    """The card holder's bank in another tab: the card number typed, its mini-statement."""
    bank = page.context.new_page()
    bank.goto(url + "/bank/")
    bank.get_by_label("Card number").fill(ELCART.replace(" ", ""))
    bank.get_by_role("button", name="Show").click()
    bank.wait_for_load_state("load")
    rows = [words(row) for row in bank.locator("tr").all_inner_texts()]
    available = words(bank.locator(".available").inner_text())
    bank.close()
    return rows, available


@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_link_the_elcart_card_by_the_held_amount_and_top_up(new_page, live_server, acquirer, lang):
    t = CAPTIONS[lang]
    wallet = make_wallet()
    page = new_page(size=PHONE, lang=lang)
    check = Checker(page, base_url=live_server.url, lang=lang, prefix=f"cards-{lang}")
    main = page.get_by_role("main")
    sign_in(page, live_server, wallet, lang)

    # The cabinet → «Мои карты» → «Добавить карту».
    page.get_by_role("link", name=tr(lang, "My cards")).click()
    check("cards-none")
    assert check.heading() == tr(lang, "My cards")
    page.get_by_role("link", name=tr(lang, "Add a card")).click()
    check("add")
    assert check.heading() == tr(lang, "Add a card")
    page.get_by_label(tr(lang, "Card name")).fill("Зарплата")
    page.get_by_label(tr(lang, "Card number")).fill(ELCART)
    page.get_by_label(tr(lang, "Valid until (MM/YY)")).fill("12/30")
    page.get_by_label(tr(lang, "CVV", same=True)).fill("862")
    page.get_by_role("button", name=t["next"]).click()
    check("held-amount")
    assert check.heading() == tr(lang, "Type the held amount")
    card = Card.objects.get()
    assert (card.status, card.hold_state) == ("linking", "held")
    assert ELCART.replace(" ", "") not in page.content()

    # The bank's mini-statement: one authorization held, from 1,00 to 9,99 KGS.
    rows, _ = bank_statement(page, acquirer)
    held = [re.search(r"hold (\d,\d\d) KGS held$", row) for row in rows]
    [amount] = [match.group(1) for match in held if match]
    page.get_by_label(tr(lang, "Held amount, som")).fill(amount)
    page.get_by_role("button", name=tr(lang, "Link the card")).click()
    check("linked")
    assert words(page.get_by_role("status").inner_text()) == tr(lang, "The card is linked.")
    card.refresh_from_db()
    assert (card.status, card.hold_state, card.brand) == ("linked", "voided", "elcart")
    assert f"Элкарт {card.masked} — Зарплата" in words(main.inner_text())
    rows, available = bank_statement(page, acquirer)
    assert f"hold {amount} KGS voided" in " | ".join(rows)
    assert available == "50000,00 KGS"

    # «Пополнить с карты» 500 → «Далее» → «Проверьте пополнение» → «Пополнить».
    page.get_by_role("link", name=tr(lang, "Top up from a card")).click()
    check("topup")
    page.get_by_label(t["amount"]).fill("500")
    page.get_by_role("button", name=t["next"]).click()
    check("topup-confirm")
    assert check.heading() == tr(lang, "Check the top-up")
    text = words(main.inner_text())
    assert f"500,00 {t['som']}" in text and f"{card} — Зарплата" in text
    page.get_by_role("button", name=tr(lang, "Top up"), exact=True).click()
    check("topup-receipt")
    assert check.heading() == tr(lang, "Top-up from a card")
    text = words(main.inner_text())
    assert tr(lang, "The wallet is topped up.") in text
    assert text.count(f"500,00 {t['som']}") == 2  # the amount and the balance
    topup = TopUp.objects.get()
    assert (topup.status, topup.amount, topup.card_id) == ("succeeded", 500_00, card.pk)
    assert ledger.balance_of(wallet.account) == 500_00
    assert ledger.check() == []
    # The bank's side: the card charged 500 once.
    rows, available = bank_statement(page, acquirer)
    assert [row for row in rows if row.endswith("charged")] == [
        row for row in rows if "charge 500,00 KGS charged" in row
    ]
    assert len([row for row in rows if "charge" in row]) == 1
    assert available == "49500,00 KGS"
    check.report()
