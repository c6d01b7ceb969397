"""Transfers by QR code: «Мой QR» (the personal static code, a request for a fixed amount and
its share link), «С помощью QR-кода» (paste, photo, share link) through the transfer's own
check page, and «Оплата по QR-коду» sending a person's code to the same flow."""

import html
import io
import re

import pytest
from django.urls import reverse

from qr import codes as qr_codes
from qr import elqr, images
from tests.qr.helpers import KGS, STATIC, VERSION, link, tlv
from tests.transfers.helpers import person
from transfers import codes
from transfers.models import WalletTransfer, masked_number
from wallets import ledger
from wallets.models import Transfer

pytestmark = pytest.mark.django_db

SCAN = reverse("transfers:qr")
NEXT = reverse("transfers:qr_next")
CONFIRM = reverse("transfers:confirm")
MY_QR = reverse("transfers:my_qr")


def page(response) -> str:
    """The page's HTML, unescaped, with the money's <span> taken out of the sentences."""
    assert response.status_code == 200, response.status_code
    return html.unescape(re.sub(r"</?span\b[^>]*>", "", response.content.decode()))


def hidden(response, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', response.content.decode())
    assert match, f"no hidden {name} in the page"
    return html.unescape(match.group(1))


def assert_nothing_moved(*wallets_and_balances):
    assert not WalletTransfer.objects.exists()
    assert not Transfer.objects.filter(kind=Transfer.Kind.WALLET_TRANSFER).exists()
    for wallet, balance in wallets_and_balances:
        assert ledger.balance_of(wallet.account) == balance


# --- The personal code ---


def test_the_personal_code_names_the_wallet_by_its_number_with_an_editable_amount():
    bob = person(name="Бакыт Осмонов")
    code = elqr.parse(codes.wallet_link(bob))
    assert code.provider_id == "kapchyk.kg"
    assert code.type == "static"
    assert code.recipient_id == bob.number.removeprefix("+")
    assert code.amount is None and code.amount_editable is True
    assert code.recipient_editable is False
    assert code.merchant_id is None
    assert code.name == "Бакыт О."
    assert qr_codes.wallet_number_of(code) == bob.number


def test_a_request_fixes_the_amount_in_the_code():
    bob = person()
    code = elqr.parse(codes.wallet_link(bob, amount=500_00))
    assert (code.amount, code.amount_editable) == (500_00, False)
    assert code.name is None  # no name known: field 59 left out, never the bare number


def test_my_qr_page_shows_the_code_and_its_downloads(client):
    bob = person(name="Бакыт Осмонов")
    client.force_login(bob.user)
    response = client.get(MY_QR)
    text = page(response)
    assert "Мой QR" in text and "Бакыт О." in text
    svg = re.search(r"<svg.*?</svg>", text[text.index("<main") :], re.S).group()  # (not the logo)
    assert 'class="qr"' in svg
    assert response.context["link"] == codes.wallet_link(bob)
    assert response.context["share"] == ""  # no amount: nothing to share but the code
    png = client.get(reverse("transfers:my_qr_png"))
    assert png["Content-Type"] == "image/png"
    assert "attachment" in png["Content-Disposition"]
    assert images.decode_single(png.content) == codes.wallet_link(bob)
    svg_file = client.get(reverse("transfers:my_qr_svg"))
    assert svg_file["Content-Type"].startswith("image/svg+xml")
    assert svg_file.content.startswith(b"<svg") and b"xmlns" in svg_file.content


def test_a_request_for_an_amount_makes_a_fixed_code_and_a_share_link(client):
    bob = person()
    client.force_login(bob.user)
    response = client.get(MY_QR, {"amount": "500"})
    text = page(response)
    assert "Запрос на 500,00 сом" in text
    fixed = codes.wallet_link(bob, amount=500_00)
    assert response.context["link"] == fixed
    share = response.context["share"]
    assert share == "http://testserver" + codes.share_path(fixed)
    assert share in text
    png = client.get(reverse("transfers:my_qr_png"), {"amount": "500"})
    assert images.decode_single(png.content) == fixed


@pytest.mark.parametrize("amount", ["0", "-5", "сто", "1,234"])
def test_a_bad_requested_amount_is_refused_on_the_form(client, amount):
    bob = person()
    client.force_login(bob.user)
    response = client.get(MY_QR, {"amount": amount})
    text = page(response)
    assert 'class="errorlist' in text
    assert response.context["link"] == codes.wallet_link(bob)  # the plain code stays
    assert client.get(reverse("transfers:my_qr_png"), {"amount": amount}).status_code == 404


def test_my_qr_needs_sign_in(client):
    for url in (MY_QR, reverse("transfers:my_qr_png"), SCAN):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


# --- Scan → amount → check → «Перевести» ---


def _next(client, link_, amount=""):
    return client.post(NEXT, {"link": link_, "amount": amount})


def _send(client, check, action="send", **changes):
    data = {
        "number": hidden(check, "number"),
        "amount": hidden(check, "amount"),
        "token": hidden(check, "token"),
        "link": hidden(check, "link"),
        "action": action,
    }
    data.update(changes)
    return client.post(CONFIRM, data)


def test_a_pasted_personal_code_leads_through_the_check_page_to_the_receipt(client):
    alice = person(balance=500_00, name="Алия Садыкова")
    bob = person(name="Бакыт Осмонов")
    client.force_login(alice.user)
    text = page(client.get(SCAN))
    assert "Перевод по QR-коду" in text and "Наведите камеру на QR-код" in text
    assert "js/qr-scan" in text  # the camera script of «Оплата по QR-коду», reused
    amount_page = client.post(SCAN, {"link": codes.wallet_link(bob)})
    text = page(amount_page)
    assert "Бакыт О." in text and masked_number(bob.number) in text
    assert "Сумма, сом" in text
    check = _next(client, codes.wallet_link(bob), "150,50")
    text = page(check)
    assert "Проверьте перевод" in text and "Бакыт О." in text
    assert "150,50 сом" in text and "без комиссии" in text and "349,50 сом" in text
    assert not WalletTransfer.objects.exists()
    response = _send(client, check)
    operation = WalletTransfer.objects.get()
    assert response.status_code == 302 and response["Location"] == operation.get_absolute_url()
    assert (operation.sender, operation.recipient, operation.amount) == (alice, bob, 150_50)
    move = Transfer.objects.get(kind=Transfer.Kind.WALLET_TRANSFER)
    assert (move.debit_id, move.credit_id, move.amount) == (
        alice.account_id,
        bob.account_id,
        150_50,
    )
    assert move.idempotency_key == operation.ledger_key("move")
    assert ledger.balance_of(alice.account) == 349_50
    assert ledger.balance_of(bob.account) == 150_50
    # A double click on «Перевести»: the same receipt, nothing more moved.
    again = _send(client, check)
    assert again["Location"] == response["Location"]
    assert WalletTransfer.objects.count() == 1
    assert ledger.balance_of(alice.account) == 349_50


def test_a_photo_of_my_qr_is_read_and_paid(client):
    alice, bob = person(balance=100_00), person(name="Бакыт Осмонов")
    client.force_login(bob.user)
    png = client.get(reverse("transfers:my_qr_png")).content
    client.force_login(alice.user)
    photo = io.BytesIO(png)
    photo.name = "screenshot.png"
    text = page(client.post(SCAN, {"photo": photo}))
    assert "Бакыт О." in text and "Сумма, сом" in text
    check = _next(client, codes.wallet_link(bob), "40")
    assert "Проверьте перевод" in page(check)
    _send(client, check)
    assert ledger.balance_of(alice.account) == 60_00
    assert ledger.balance_of(bob.account) == 40_00


def test_a_request_link_is_paid_by_another_wallet_with_its_fixed_amount(client):
    alice, bob = person(balance=1_000_00), person(name="Бакыт Осмонов")
    fixed = codes.wallet_link(bob, amount=500_00)
    client.force_login(alice.user)
    opened = client.get(codes.share_path(fixed))
    text = page(opened)
    assert "Бакыт О." in text and "500,00 сом" in text and "Сумма этого кода задана" in text
    assert hidden(opened, "amount") == "500,00"
    check = _next(client, fixed, "500,00")
    assert "Проверьте перевод" in page(check)
    _send(client, check)
    operation = WalletTransfer.objects.get()
    assert operation.amount == 500_00
    assert ledger.balance_of(alice.account) == 500_00
    assert ledger.balance_of(bob.account) == 500_00


def test_a_fixed_code_refuses_another_amount_at_next_and_at_confirm(client):
    alice, bob = person(balance=1_000_00), person()
    fixed = codes.wallet_link(bob, amount=500_00)
    client.force_login(alice.user)
    text = page(_next(client, fixed, "5"))
    assert "Сумма этого кода задана: 500,00 сом. Её нельзя изменить." in text
    assert "Проверьте перевод" not in text
    check = _next(client, fixed, "500")
    text = page(_send(client, check, amount="5"))
    assert "Сумма этого кода задана: 500,00 сом. Её нельзя изменить." in text
    assert_nothing_moved((alice, 1_000_00), (bob, 0))


def test_back_on_the_check_page_returns_to_the_amount_of_the_code(client):
    alice, bob = person(balance=100_00), person(name="Бакыт Осмонов")
    client.force_login(alice.user)
    check = _next(client, codes.wallet_link(bob), "20")
    text = page(_send(client, check, action="back"))
    assert "Бакыт О." in text and 'value="20,00"' in text
    assert_nothing_moved((alice, 100_00))


def test_a_transfer_by_qr_above_the_balance_is_refused(client):
    alice, bob = person(balance=10_00), person()
    client.force_login(alice.user)
    text = page(_next(client, codes.wallet_link(bob), "10,01"))
    assert "Недостаточно средств" in text
    assert_nothing_moved((alice, 10_00), (bob, 0))


def test_a_transfer_by_qr_meets_the_senders_limits(client):
    from tests.factories import UserFactory, make_wallet
    from tests.wallets.test_limits import level

    alice = make_wallet(balance=1_000_00, user=UserFactory(), level=level(limit_operation=200_00))
    bob = person()
    client.force_login(alice.user)
    text = page(_next(client, codes.wallet_link(bob), "200,01"))
    assert "200,00 сом" in text and "Проверьте перевод" not in text
    assert_nothing_moved((alice, 1_000_00), (bob, 0))


# --- Bad input: a clear message, nothing moved ---


def _blocked():
    wallet = person()
    wallet.user.is_active = False
    wallet.user.save(update_fields=["is_active"])
    return wallet


def _wrong_checksum(alice, bob):
    good = codes.wallet_link(bob)
    checksum = good[-4:]
    return good[:-4] + ("0000" if checksum != "0000" else "1111")


CASES = {
    "not a link": (lambda a, b: "привет", "Это не ссылка платёжного QR-кода."),
    "wrong checksum": (
        _wrong_checksum,
        "QR-код повреждён или считан не полностью. Отсканируйте его ещё раз.",
    ),
    "a number without a wallet": (
        lambda a, b: qr_codes.link(
            qr_codes.our_code(type="static", recipient_id="996700999888", recipient_editable=False)
        ),
        "У этого номера пока нет кошелька Kapchyk.",
    ),
    "own code": (
        lambda a, b: codes.wallet_link(a),
        "Это ваш собственный QR-код: отсканируйте код получателя.",
    ),
    "blocked wallet": (
        lambda a, b: codes.wallet_link(_blocked()),
        "Этот кошелёк заблокирован и не может принимать переводы.",
    ),
    "a hand-made code of ours without a payee": (
        lambda a, b: link(
            "https://qr.kapchyk.kg/", VERSION, STATIC, tlv("32", tlv("00", "kapchyk.kg")), KGS
        ),
        "Получатель по этому QR-коду нам неизвестен.",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_code_gets_a_clear_message_and_moves_nothing(client, case):
    alice, bob = person(balance=100_00), person()
    make_link, message = CASES[case]
    bad = make_link(alice, bob)
    client.force_login(alice.user)
    for response in (
        client.post(SCAN, {"link": bad}),
        client.get(SCAN, {"c": bad}),
        _next(client, bad, "10"),
    ):
        text = page(response)
        assert message in text, text
        assert "Проверьте перевод" not in text
    assert_nothing_moved((alice, 100_00), (bob, 0))


def test_the_bad_code_messages_in_kyrgyz(client):
    alice = person(balance=100_00)
    client.force_login(alice.user)
    client.cookies["kapchyk_language"] = "ky"
    text = page(client.post(SCAN, {"link": codes.wallet_link(alice)}))
    assert "Бул сиздин өзүңүздүн QR-кодуңуз: алуучунун кодун окутуңуз." in text
    text = page(client.post(SCAN, {"link": "салам"}))
    assert "QR-коду боюнча акча которуу" in text
    assert 'class="errorlist' in text
    assert_nothing_moved((alice, 100_00))


def test_a_file_that_is_not_an_image_is_refused(client):
    alice = person(balance=100_00)
    client.force_login(alice.user)
    upload = io.BytesIO(b"%PDF-1.4 not a picture")
    upload.name = "qr.png"
    text = page(client.post(SCAN, {"photo": upload}))
    assert "Файл не является изображением. Загрузите фото или снимок экрана" in text
    assert_nothing_moved((alice, 100_00))


def test_a_merchants_code_in_transfers_points_to_paying_by_qr(client):
    from tests.qr.payments import merchant

    alice = person(balance=100_00)
    client.force_login(alice.user)
    from qr import services as qr_services

    text = page(client.post(SCAN, {"link": qr_services.merchant_link(merchant())}))
    assert "Это QR-код продавца: оплатите его в разделе «Оплата по QR-коду»." in text


# --- «Оплата по QR-коду» with a person's code ---


def test_paying_by_qr_sends_a_persons_code_to_the_transfer(client):
    alice, bob = person(balance=100_00), person(name="Бакыт Осмонов")
    client.force_login(alice.user)
    fixed = codes.wallet_link(bob, amount=30_00)
    response = client.post(reverse("qr:scan"), {"link": fixed})
    assert response.status_code == 302
    assert response["Location"] == codes.share_path(fixed)
    text = page(client.get(response["Location"]))
    assert "Бакыт О." in text and "30,00 сом" in text
    check = _next(client, fixed)
    _send(client, check)
    assert ledger.balance_of(alice.account) == 70_00
    assert ledger.balance_of(bob.account) == 30_00


def test_scan_resolve_names_a_persons_code_by_its_number():
    from django.core.exceptions import ValidationError

    from qr import services as qr_services
    from wallets import operations

    bob = person()
    with pytest.raises(ValidationError) as caught:
        qr_services.scan_resolve(codes.wallet_link(bob))
    assert operations.codes_of(caught.value) == {"person"}
    assert caught.value.error_dict["__all__"][0].params == {"number": bob.number}


def test_only_our_codes_naming_a_number_without_a_merchant_are_a_persons():
    from qr import services as qr_services
    from tests.qr.payments import foreign_link, merchant

    ours = qr_codes.our_code(type="static", recipient_id="+996700123456")
    assert qr_codes.wallet_number_of(ours) == "+996700123456"
    assert qr_codes.wallet_number_of(elqr.parse(foreign_link())) is None  # MBank's, a number
    assert qr_codes.wallet_number_of(elqr.parse(qr_services.merchant_link(merchant()))) is None
    with_merchant = qr_codes.our_code(type="static", recipient_id="996700123456", merchant_id="7")
    assert qr_codes.wallet_number_of(with_merchant) is None
    assert (
        qr_codes.wallet_number_of(qr_codes.our_code(type="static", recipient_id="0700123456"))
        is None
    )
