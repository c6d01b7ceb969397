import pytest
from django.core.exceptions import ValidationError

from notifications.models import Notification
from tests.factories import make_wallet, system
from tests.transfers.helpers import person, send
from transfers import services
from transfers.models import WalletTransfer, masked_number, short_name
from wallets import ledger, operations
from wallets.models import Account, SmsMessage, Transfer

pytestmark = pytest.mark.django_db


def codes(exc_info):
    return operations.codes_of(exc_info.value)


def test_a_transfer_moves_the_amount_wallet_to_wallet_with_one_keyed_leg():
    alice = person(balance=500_00, name="Алия Садыкова", language="ru")
    bob = person(name="Бакыт Осмонов", language="ky")
    operation = send(alice, bob, 120_50, number="0" + bob.number[4:])
    assert operation.status == WalletTransfer.Status.SUCCEEDED
    assert (operation.amount, operation.fee, operation.total) == (120_50, 0, 120_50)
    assert ledger.balance_of(alice.account) == 379_50
    assert ledger.balance_of(bob.account) == 120_50
    leg = Transfer.objects.get(kind=Transfer.Kind.WALLET_TRANSFER)
    assert (leg.debit_id, leg.credit_id, leg.amount) == (alice.account_id, bob.account_id, 120_50)
    assert leg.idempotency_key == f"wallet-transfer:{operation.code}:move"
    assert leg.memo == "Алия С. → Бакыт О."
    assert not Transfer.objects.filter(kind=Transfer.Kind.TRANSFER_FEE).exists()
    assert ledger.check() == []


def test_both_sides_are_notified_in_their_language_in_app_and_by_sms():
    alice = person(balance=500_00, name="Алия Садыкова", language="ru")
    bob = person(name="Бакыт Осмонов", language="ky")
    operation = send(alice, bob, 100_00)
    code = operation.display_code
    sent = Notification.objects.get(user=alice.user)
    received = Notification.objects.get(user=bob.user)
    assert sent.kind == Notification.Kind.TRANSFER_SENT
    assert sent.text == (
        f"Капчык: перевод 100,00 сом получателю Бакыт О. ({masked_number(bob.number)}). "
        f"Код перевода {code}."
    )
    assert received.kind == Notification.Kind.TRANSFER_RECEIVED
    assert received.text == (
        f"Капчык: Алия С. ({masked_number(alice.number)}) сизге 100,00 сом которду. "
        f"Которуунун коду {code}."
    )
    assert sent.url == received.url == f"/transfers/receipt/{operation.code}/"
    sms = {m.phone: m.text for m in SmsMessage.objects.all()}
    assert sms == {alice.number: sent.text, bob.number: received.text}


def test_a_fee_is_its_own_leg_to_fees_and_shown_in_the_quote(settings):
    settings.TRANSFER_FEE_PERCENT = 1.5
    settings.TRANSFER_FEE_FIXED = 2_00
    alice, bob = person(balance=500_00), person()
    quote = services.transfer_quote(wallet=alice, number=bob.number, amount=100_01)
    assert quote.fee == 2_00 + 1_51  # 1.5 % of 100,01 = 1,50015 → up to 1,51
    assert quote.balance_after == 500_00 - 100_01 - 3_51
    operation = send(alice, bob, 100_01)
    assert operation.fee == 3_51 and operation.total == 103_52
    assert ledger.balance_of(alice.account) == 396_48
    assert ledger.balance_of(bob.account) == 100_01
    fee = Transfer.objects.get(kind=Transfer.Kind.TRANSFER_FEE)
    assert fee.credit_id == system(Account.Kind.FEES).pk and fee.amount == 3_51
    assert ledger.check() == []


def test_the_same_token_twice_is_one_transfer():
    alice, bob = person(balance=500_00), person()
    quote = services.transfer_quote(wallet=alice, number=bob.number, amount=100_00)
    token = services.transfer_token_new(wallet=alice, quote=quote)
    first = services.transfer_create(wallet=alice, number=bob.number, amount=100_00, token=token)
    again = services.transfer_create(
        wallet=alice, number="+996 " + bob.number[4:], amount=100_00, token=token
    )
    assert again.pk == first.pk
    assert WalletTransfer.objects.count() == 1
    assert Transfer.objects.filter(kind=Transfer.Kind.WALLET_TRANSFER).count() == 1
    assert ledger.balance_of(alice.account) == 400_00
    assert Notification.objects.count() == 2 and SmsMessage.objects.count() == 2


def test_a_used_token_with_other_values_is_refused():
    alice, bob, carol = person(balance=500_00), person(), person()
    quote = services.transfer_quote(wallet=alice, number=bob.number, amount=100_00)
    token = services.transfer_token_new(wallet=alice, quote=quote)
    services.transfer_create(wallet=alice, number=bob.number, amount=100_00, token=token)
    with pytest.raises(ValidationError) as exc:
        services.transfer_create(wallet=alice, number=carol.number, amount=100_00, token=token)
    assert codes(exc) == {"token_reused"}
    assert ledger.balance_of(alice.account) == 400_00


def test_a_token_bound_to_another_recipient_or_amount_or_fee_is_refused(settings):
    alice, bob, carol = person(balance=500_00), person(), person()
    quote = services.transfer_quote(wallet=alice, number=bob.number, amount=100_00)
    token = services.transfer_token_new(wallet=alice, quote=quote)
    for number, amount in [(carol.number, 100_00), (bob.number, 100_01)]:
        with pytest.raises(ValidationError) as exc:
            services.transfer_create(wallet=alice, number=number, amount=amount, token=token)
        assert codes(exc) == {"token"}
    settings.TRANSFER_FEE_FIXED = 1_00
    with pytest.raises(ValidationError) as exc:
        services.transfer_create(wallet=alice, number=bob.number, amount=100_00, token=token)
    assert codes(exc) == {"price_changed"}
    with pytest.raises(ValidationError) as exc:
        services.transfer_create(wallet=alice, number=bob.number, amount=100_00, token="forged")
    assert codes(exc) == {"token"}
    assert WalletTransfer.objects.count() == 0 and ledger.balance_of(alice.account) == 500_00


def test_another_wallets_token_is_refused():
    alice, bob = person(balance=500_00), person(balance=500_00)
    quote = services.transfer_quote(wallet=alice, number=bob.number, amount=100_00)
    token = services.transfer_token_new(wallet=alice, quote=quote)
    with pytest.raises(ValidationError) as exc:
        services.transfer_create(wallet=bob, number=bob.number, amount=100_00, token=token)
    assert codes(exc) & {"token", "to_self"}
    assert ledger.balance_of(bob.account) == 500_00


@pytest.mark.parametrize(
    ("number", "code", "message"),
    [
        ("0700 000 000", "no_wallet", "У этого номера пока нет кошелька Kapchyk."),
        ("12345", "invalid", None),
        ("+7 916 123 45 67", "foreign", None),
        ("", "required", None),
    ],
)
def test_a_number_without_a_wallet_or_not_a_number_is_refused(number, code, message):
    alice = person(balance=500_00)
    with pytest.raises(ValidationError) as exc:
        services.transfer_quote(wallet=alice, number=number, amount=10_00)
    assert codes(exc) == {code}
    assert list(exc.value.error_dict) == ["number"]
    if message:
        assert exc.value.message_dict["number"] == [message]


def test_a_transfer_to_yourself_is_refused():
    alice = person(balance=500_00)
    with pytest.raises(ValidationError) as exc:
        services.transfer_quote(wallet=alice, number=alice.number, amount=10_00)
    assert codes(exc) == {"to_self"}
    assert exc.value.message_dict["number"] == [
        "Это ваш собственный кошелёк: введите другой номер."
    ]


def test_a_blocked_wallet_is_refused():
    alice, bob = person(balance=500_00), person(is_active=False)
    with pytest.raises(ValidationError) as exc:
        services.transfer_quote(wallet=alice, number=bob.number, amount=10_00)
    assert codes(exc) == {"recipient_blocked"}


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        (0, "amount_zero"),
        (-5_00, "amount_zero"),
        ("1,234", "amount_invalid"),
        (None, "amount_invalid"),
    ],
)
def test_a_zero_negative_or_malformed_amount_is_refused(amount, code):
    alice, bob = person(balance=500_00), person()
    with pytest.raises(ValidationError) as exc:
        services.transfer_quote(wallet=alice, number=bob.number, amount=amount)
    assert codes(exc) == {code}


def test_above_the_balance_is_refused_at_the_quote_and_at_the_confirmation():
    alice, bob = person(balance=50_00), person()
    with pytest.raises(ValidationError) as exc:
        services.transfer_quote(wallet=alice, number=bob.number, amount=50_01)
    assert codes(exc) == {"insufficient_funds"}
    quote = services.transfer_quote(wallet=alice, number=bob.number, amount=50_00)
    token = services.transfer_token_new(wallet=alice, quote=quote)
    ledger.transfer(
        debit=alice.account, credit=system(Account.Kind.FEES), amount=1, key="spent elsewhere"
    )
    with pytest.raises(ValidationError) as exc:
        services.transfer_create(wallet=alice, number=bob.number, amount=50_00, token=token)
    assert codes(exc) == {"insufficient_funds"}
    assert WalletTransfer.objects.count() == 0
    assert Notification.objects.count() == 0 and SmsMessage.objects.count() == 0
    assert ledger.balance_of(bob.account) == 0 and ledger.balance_of(alice.account) == 49_99


def test_short_name_and_masked_number():
    wallet = make_wallet()
    user = wallet.user
    user.full_name = "Демо Колдонуучу"
    assert short_name(user) == "Демо К."
    user.full_name = "  Айгуль  "
    assert short_name(user) == "Айгуль"
    user.full_name = ""
    assert short_name(user) == masked_number(user.phone)
    assert masked_number("+996555123456") == "+996 555 *** 456"


def test_a_transfer_past_the_senders_limit_is_refused_and_moves_nothing():
    from tests.wallets.test_limits import level

    sender = make_wallet(balance=1_000_00, level=level(limit_out_day=300_00))
    recipient = make_wallet()
    with pytest.raises(ValidationError) as caught:
        services.transfer_quote(wallet=sender, number=recipient.number, amount=300_01)
    assert operations.codes_of(caught.value) == {"limit_exceeded"}
    assert ledger.balance_of(sender.account) == 1_000_00
    assert ledger.balance_of(recipient.account) == 0
