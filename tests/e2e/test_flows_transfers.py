"""Transfers in a real browser (issue 13), in ru and in ky on a 360×640 phone: by number; by
uploading a screenshot of the recipient's «Мой QR» page, taken in the recipient's own session;
a request-to-pay link (a fixed amount) opened and paid by another wallet; then the
recipient's bell shows the unread count and /notifications/ the notification text. Every page
passes the flows' checks (axe, no sideways scrolling, clean console, weight)."""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from notifications.models import Notification
from tests.e2e.conftest import PHONE, SHOTS
from tests.e2e.pages import CAPTIONS, Checker, sign_in, words
from tests.factories import UserFactory, make_wallet
from transfers import services
from transfers.models import WalletTransfer
from wallets import ledger

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalogue")]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def captions(lang):
    """The captions as the catalogues word them (the seed's wording in ru, and ky)."""
    with translation.override(lang):
        return {
            "transfers": gettext("Transfers"),
            "by_number": gettext("By phone number"),
            "by_qr": gettext("With a QR code"),
            "my_qr": gettext("My QR"),
            "number": gettext("Recipient's number"),
            "amount": gettext("Amount, som"),
            "photo": gettext("Photo or screenshot of the QR code"),
            "next": gettext("Next"),
            "check_h": gettext("Check the transfer"),
            "send": gettext("Send the transfer"),
            "sent_h": gettext("Transfer sent"),
            "request": gettext("Amount, som"),
            "make": gettext("Make the code"),
            "notifications": gettext("Notifications"),
        }


def send_from_check_page(page, check, c, *, amount_shown, name="Бакыт О."):
    assert check.heading() == c["check_h"]
    details = words(page.get_by_role("main").locator("dl").inner_text())
    assert name in details and amount_shown in details
    check("check")
    page.get_by_role("button", name=c["send"], exact=True).click()
    assert check.heading() == c["sent_h"]
    check("receipt")


@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_transfers_by_number_by_a_my_qr_screenshot_and_by_a_request_link(
    new_page, live_server, lang
):
    c = captions(lang)
    som = CAPTIONS[lang]["som"]
    alice = make_wallet(
        balance=2_000_00, user=UserFactory(full_name="Алия Садыкова", language=lang)
    )
    bob = make_wallet(user=UserFactory(full_name="Бакыт Осмонов", language=lang))
    carol = make_wallet(
        balance=1_000_00, user=UserFactory(full_name="Чынара Асанова", language=lang)
    )

    # The recipient opens «Мой QR» and a screenshot of that page is taken in their session.
    bob_page = new_page(size=PHONE, lang=lang)
    bob_check = Checker(bob_page, base_url=live_server.url, lang=lang, prefix=f"tr-{lang}-bob")
    sign_in(bob_page, live_server, bob, lang)
    bob_page.get_by_role("link", name=c["transfers"], exact=True).first.click()
    bob_check("transfers")
    bob_page.get_by_role("link", name=c["my_qr"], exact=True).first.click()
    assert bob_check.heading() == c["my_qr"]
    bob_check("my-qr")
    screenshot = bob_page.screenshot(full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)

    # 1. By number.
    page = new_page(size=PHONE, lang=lang)
    check = Checker(page, base_url=live_server.url, lang=lang, prefix=f"tr-{lang}-alice")
    sign_in(page, live_server, alice, lang)
    page.get_by_role("link", name=c["transfers"], exact=True).first.click()
    check("transfers")
    page.get_by_role("link", name=c["by_number"], exact=True).click()
    page.get_by_label(c["number"]).fill("0" + bob.number[4:])
    page.get_by_label(c["amount"]).fill("100")
    check("by-number")
    page.get_by_role("button", name=c["next"], exact=True).click()
    send_from_check_page(page, check, c, amount_shown=f"100,00 {som}")
    assert ledger.balance_of(bob.account) == 100_00

    # 2. By uploading the screenshot of the recipient's «Мой QR».
    page.get_by_role("link", name=c["transfers"], exact=True).first.click()
    check("transfers-again")
    page.get_by_role("link", name=c["by_qr"], exact=True).click()
    check("by-qr-scan")
    page.get_by_label(c["photo"]).set_input_files(
        {"name": "my-qr.png", "mimeType": "image/png", "buffer": screenshot}
    )
    page.get_by_role("button", name=c["next"], exact=True).click()
    assert words(page.get_by_role("heading", level=2).inner_text()) == "Бакыт О."
    check("by-qr-amount")
    page.get_by_label(c["amount"]).fill("150,50")
    page.get_by_role("button", name=c["next"], exact=True).click()
    send_from_check_page(page, check, c, amount_shown=f"150,50 {som}")
    assert ledger.balance_of(alice.account) == 2_000_00 - 100_00 - 150_50
    assert ledger.balance_of(bob.account) == 250_50

    # 3. The recipient requests 500 som; another wallet opens the link and pays it.
    bob_page.get_by_label(c["request"]).fill("500")
    bob_page.get_by_role("button", name=c["make"], exact=True).click()
    bob_check("my-qr-request")
    share = words(bob_page.locator(".qr-link code").inner_text())
    assert share.startswith(live_server.url + "/transfers/qr/?c=")
    carol_page = new_page(size=PHONE, lang=lang)
    carol_check = Checker(
        carol_page, base_url=live_server.url, lang=lang, prefix=f"tr-{lang}-carol"
    )
    sign_in(carol_page, live_server, carol, lang)
    carol_page.goto(share)
    assert words(carol_page.get_by_role("heading", level=2).inner_text()) == "Бакыт О."
    assert f"500,00 {som}" in words(carol_page.get_by_role("main").locator("dl").inner_text())
    assert carol_page.get_by_label(c["amount"]).count() == 0  # fixed: nothing to type
    carol_check("request-amount")
    carol_page.get_by_role("button", name=c["next"], exact=True).click()
    send_from_check_page(carol_page, carol_check, c, amount_shown=f"500,00 {som}")
    assert ledger.balance_of(carol.account) == 500_00
    assert ledger.balance_of(bob.account) == 750_50
    assert WalletTransfer.objects.filter(recipient=bob).count() == 3

    # The recipient's bell counts the three transfers received and the notice of his first
    # sign-in on this browser (a new device); the list shows their text.
    assert sorted(
        Notification.objects.filter(user=bob.user, read_at=None).values_list("kind", flat=True)
    ) == ["new_device", "transfer_received", "transfer_received", "transfer_received"]
    bob_page.reload()
    assert words(bob_page.locator(".bell .count").inner_text()) == "4"
    bob_check("bell")
    bob_page.locator(".bell").click()
    assert bob_check.heading() == c["notifications"]
    listed = words(bob_page.get_by_role("main").inner_text())
    last = WalletTransfer.objects.filter(recipient=bob).order_by("-id").first()
    with translation.override(lang):
        assert words(services.received_text(last)) in listed
    bob_check("notifications")
    bob_page.reload()
    assert bob_page.locator(".bell .count").count() == 0  # read once shown
