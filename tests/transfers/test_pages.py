import pytest
from django.urls import reverse

from notifications.models import Notification
from tests.transfers.helpers import person, send
from transfers.models import WalletTransfer, masked_number
from wallets import ledger
from wallets.models import Transfer
from wallets.phones import format_number

pytestmark = pytest.mark.django_db

START = reverse("transfers:by_number")
CONFIRM = reverse("transfers:confirm")


def _check_page(client, number, amount):
    response = client.post(START, {"number": number, "amount": amount})
    assert response.status_code == 200
    return response


def _token(response):
    return response.context["form"].initial["token"]


def test_the_whole_flow_by_number_as_the_owner(client):
    alice = person(balance=500_00, name="Алия Садыкова")
    bob = person(name="Бакыт Осмонов")
    client.force_login(alice.user)
    start = client.get(reverse("transfers:start")).content.decode()
    assert "Переводы" in start and "По номеру телефона" in start
    assert "Далее" in client.get(START).content.decode()
    national = "0" + bob.number[4:7] + " " + bob.number[7:10] + " " + bob.number[10:]
    check = _check_page(client, national, "150,50")
    html = check.content.decode()
    assert "Проверьте перевод" in html
    assert "Бакыт О." in html and masked_number(bob.number) in html
    assert "150,50 сом" in html and "без комиссии" in html
    assert "349,50 сом" in html  # the balance after
    assert "Перевести" in html
    assert WalletTransfer.objects.count() == 0  # nothing moved yet
    data = {"number": bob.number, "amount": "150,50", "token": _token(check), "action": "send"}
    response = client.post(CONFIRM, data, follow=True)
    operation = WalletTransfer.objects.get()
    assert response.redirect_chain == [(operation.get_absolute_url(), 302)]
    receipt = response.content.decode()
    assert "Перевод отправлен" in receipt and operation.display_code in receipt
    assert "Бакыт О." in receipt and '−<span class="money">150,50 сом</span>' in receipt
    assert ledger.balance_of(alice.account) == 349_50
    assert ledger.balance_of(bob.account) == 150_50


def test_a_double_click_refresh_or_resubmit_lands_on_the_same_receipt(client):
    alice, bob = person(balance=500_00), person()
    client.force_login(alice.user)
    check = _check_page(client, bob.number, "100")
    data = {"number": bob.number, "amount": "100,00", "token": _token(check), "action": "send"}
    first = client.post(CONFIRM, data)
    second = client.post(CONFIRM, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert WalletTransfer.objects.count() == 1
    assert Transfer.objects.filter(kind=Transfer.Kind.WALLET_TRANSFER).count() == 1
    assert ledger.balance_of(alice.account) == 400_00


@pytest.mark.parametrize(
    ("number", "amount", "message"),
    [
        ("0700 000 000", "10", "У этого номера пока нет кошелька Kapchyk."),
        ("own", "10", "Это ваш собственный кошелёк: введите другой номер."),
        ("bob", "0", "Сумма должна быть больше нуля."),
        ("bob", "-5", "Сумма должна быть больше нуля."),
        ("bob", "1,234", "В сумме не больше 2 знаков после запятой (тыйыны)."),
        ("bob", "500,01", "Недостаточно средств"),
        ("abc", "10", None),
    ],
)
def test_refusals_are_shown_on_the_form_and_nothing_moves(client, number, amount, message):
    alice, bob = person(balance=500_00), person()
    number = {"own": alice.number, "bob": bob.number}.get(number, number)
    client.force_login(alice.user)
    response = client.post(START, {"number": number, "amount": amount})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Проверьте перевод" not in html
    assert 'class="errorlist' in html
    if message:
        assert message in html
    assert WalletTransfer.objects.count() == 0
    assert ledger.balance_of(alice.account) == 500_00


def test_back_returns_the_filled_form(client):
    alice, bob = person(balance=500_00), person()
    client.force_login(alice.user)
    check = _check_page(client, bob.number, "20")
    data = {"number": bob.number, "amount": "20,00", "token": _token(check), "action": "back"}
    html = client.post(CONFIRM, data).content.decode()
    assert f'value="{bob.number}"' in html and 'value="20,00"' in html
    assert WalletTransfer.objects.count() == 0


def test_a_tampered_amount_is_refused(client):
    alice, bob = person(balance=500_00), person()
    client.force_login(alice.user)
    check = _check_page(client, bob.number, "20")
    data = {"number": bob.number, "amount": "200", "token": _token(check), "action": "send"}
    response = client.post(CONFIRM, data)
    assert response.status_code == 200
    assert "Форма платежа устарела" in response.content.decode()
    assert WalletTransfer.objects.count() == 0


def test_the_recipient_sees_the_receipt_and_the_bell(client):
    alice, bob = person(balance=500_00, name="Алия Садыкова"), person()
    operation = send(alice, bob, 75_00)
    client.force_login(bob.user)
    html = client.get(operation.get_absolute_url()).content.decode()
    assert (
        "Перевод получен" in html
        and "Алия С." in html
        and '+<span class="money">75,00 сом</span>' in html
    )
    assert '<span class="count">1</span>' in html
    notes = client.get(reverse("notifications:list")).content.decode()
    assert "Алия С." in notes and "75,00 сом" in notes
    assert not Notification.objects.filter(user=bob.user, read_at__isnull=True).exists()


def test_a_stranger_gets_404_for_a_receipt(client):
    alice, bob, stranger = person(balance=500_00), person(), person()
    operation = send(alice, bob, 10_00)
    client.force_login(stranger.user)
    assert client.get(operation.get_absolute_url()).status_code == 404


def test_pages_need_sign_in(client):
    for url in (reverse("transfers:start"), START):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_the_pages_in_kyrgyz(client):
    alice, bob = person(balance=500_00), person()
    client.force_login(alice.user)
    client.cookies["kapchyk_language"] = "ky"
    assert "Которуулар" in client.get(reverse("transfers:start")).content.decode()
    assert "Андан ары" in client.get(START).content.decode()
    html = _check_page(client, bob.number, "10").content.decode()
    assert "Которуу</button>" in html


def test_both_histories_show_the_transfer_sent_minus_received_plus(client):
    alice = person(balance=500_00, name="Алия Садыкова")
    bob = person(name="Бакыт Осмонов")
    send(alice, bob, 42_00)
    client.force_login(alice.user)
    mine = client.get(reverse("wallets:history")).content.decode()
    assert "Перевод получателю Бакыт О." in mine and masked_number(bob.number) in mine
    assert '<span class="money">-42,00 сом</span>' in mine
    client.force_login(bob.user)
    theirs = client.get(reverse("wallets:history")).content.decode()
    assert "Перевод от Алия С." in theirs and masked_number(alice.number) in theirs
    assert '+<span class="money">42,00 сом</span>' in theirs


def test_the_csv_statement_includes_transfers_of_both_sides(client):
    import csv
    import io

    alice = person(balance=500_00, name="Алия Садыкова")
    bob = person(name="Бакыт Осмонов")
    sent = send(alice, bob, 42_00)
    back = send(bob, alice, 2_50)
    client.force_login(alice.user)
    content = client.get("/cabinet/history/statement.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert [row[1:] for row in rows[1:]] == [
        [back.display_code, "Перевод от Бакыт О.", masked_number(bob.number)]
        + ["2,50", "0,00", "2,50", "проведён"],
        [sent.display_code, "Перевод получателю Бакыт О."]
        + [masked_number(bob.number), "42,00", "0,00", "42,00", "проведён"],
        ["", "Пополнение", "test", "500,00", "0,00", "500,00", "проведён"],  # the cash-in
    ]
    # Limited to one service, the statement has that service's payments and no transfers.
    from tests.factories import make_payment

    payment = make_payment(wallet=alice, amount=10_00)
    limited = client.get("/cabinet/history/statement.csv", {"provider": payment.provider_id})
    assert limited.status_code == 200
    text = limited.content.decode("utf-8-sig")
    assert payment.display_code in text and sent.display_code not in text


def test_repeat_on_the_senders_receipt_fills_the_form_with_the_same_recipient_and_amount(client):
    alice, bob = person(balance=500_00, name="Алия Садыкова"), person(name="Бакыт Осмонов")
    operation = send(alice, bob, 75_50)
    client.force_login(alice.user)
    receipt = client.get(operation.get_absolute_url()).content.decode()
    repeat = f'href="{START}?repeat={operation.code}">Повторить</a>'
    assert repeat in receipt
    form = client.get(f"{START}?repeat={operation.code}").context["form"]
    assert form.initial == {"number": format_number(bob.number), "amount": "75,50"}
    # The form only: «Далее» and «Перевести» are still needed; nothing moved again.
    assert WalletTransfer.objects.count() == 1 and ledger.balance_of(alice.account) == 424_50

    # The recipient's receipt offers no «Повторить»; another wallet's code fills nothing.
    client.force_login(bob.user)
    assert "Повторить" not in client.get(operation.get_absolute_url()).content.decode()
    assert client.get(f"{START}?repeat={operation.code}").context["form"].initial == {}
