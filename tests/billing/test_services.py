from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from billing import services
from billing.models import Favourite, Payment
from providers import gateways
from tests.factories import ProviderFactory, UserFactory, make_payment, make_wallet
from wallets import ledger, operations
from wallets.models import Account, SmsMessage, Transfer

pytestmark = pytest.mark.django_db

INN = "01234567890123"


def pay(wallet, provider, *, amount=100_00, account=INN, token=None, **kw):
    token = token or services.payment_token_new(wallet=wallet)
    return services.payment_create(
        wallet=wallet, provider=provider, account=account, amount=amount, token=token, **kw
    )


def balances(wallet, provider):
    return (
        ledger.balance_of(wallet.account),
        ledger.balance_of(provider.account),
        ledger.balance_of(ledger.system_account(Account.Kind.SUSPENSE)),
        ledger.balance_of(ledger.system_account(Account.Kind.FEES)),
    )


def movements(payment):
    return list(
        Transfer.objects.filter(idempotency_key__startswith=f"payment:{payment.code}:")
        .order_by("id")
        .values_list("kind", "debit__code", "credit__code", "amount", "memo")
    )


def error_codes(exc: ValidationError):
    return {e.code for errors in exc.error_dict.values() for e in errors}


def test_quote_prices_the_payment():
    provider = ProviderFactory(fee_fixed=5_00, fee_percent=Decimal("1.50"))
    wallet = make_wallet(balance=300_00)
    quote = services.payment_quote(
        wallet=wallet, provider=provider, account="0123 4567 8901 23", amount=200_00
    )
    assert (quote.account, quote.amount, quote.fee, quote.total, quote.balance_after) == (
        INN,
        200_00,
        8_00,
        208_00,
        92_00,
    )
    assert quote.enough
    assert not services.payment_quote(
        wallet=wallet, provider=provider, account=INN, amount=295_00
    ).enough


def test_quote_reports_field_errors_together():
    provider = ProviderFactory(min_amount=10_00, max_amount=1_000_00)
    wallet = make_wallet()
    with pytest.raises(ValidationError) as caught:
        services.payment_quote(wallet=wallet, provider=provider, account="12", amount=5_00)
    errors = caught.value.message_dict
    assert errors["account"] == ["14 цифр"]
    assert errors["amount"] == ["Минимальная сумма для этой услуги — 10,00 сом."]


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", True, None])
def test_quote_refuses_non_positive_or_non_integer_amounts(amount):
    with pytest.raises(ValidationError) as caught:
        services.payment_quote(
            wallet=make_wallet(), provider=ProviderFactory(), account=INN, amount=amount
        )
    assert list(caught.value.message_dict) == ["amount"]


def test_quote_refuses_an_inactive_provider():
    with pytest.raises(ValidationError) as caught:
        services.payment_quote(
            wallet=make_wallet(), provider=ProviderFactory(active=False), account=INN, amount=1_00
        )
    assert NON_FIELD_ERRORS in caught.value.message_dict


def test_payment_holds_then_settles_to_provider_and_fees(django_capture_on_commit_callbacks):
    provider = ProviderFactory(fee_fixed=5_00, fee_percent=Decimal("1.50"), name_ru="Тест-Сервис")
    wallet = make_wallet(balance=1_000_00)
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(wallet, provider, amount=200_00, account="0123 4567 8901 23")
    assert (payment.status, payment.amount, payment.fee, payment.total) == (
        "succeeded",
        200_00,
        8_00,
        208_00,
    )
    assert payment.account == INN
    assert payment.settled_at is not None
    assert payment.channel == "web"
    assert len(payment.code) == 12 and payment.code.isdigit()
    assert balances(wallet, provider) == (792_00, 200_00, 0, 8_00)
    memo = f"Тест-Сервис {INN}"
    wallet_code, provider_code = wallet.account.code, provider.account.code
    assert movements(payment) == [
        ("payment_hold", wallet_code, "system:suspense", 208_00, memo),
        ("payment_settle", "system:suspense", provider_code, 200_00, memo),
        ("payment_fee", "system:suspense", "system:fees", 8_00, memo),
    ]
    assert ledger.check() == []
    assert ledger.total() == 0
    sms = SmsMessage.objects.get(phone=wallet.number)
    assert sms.text == (
        f"Капчык: оплачено 200,00 сом, Тест-Сервис, счёт {INN}, комиссия 8,00 сом. "
        f"Код платежа {payment.display_code}."
    )


def test_payment_without_fee_moves_no_fee(django_capture_on_commit_callbacks):
    provider = ProviderFactory()
    wallet = make_wallet(balance=100_00)
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(wallet, provider, amount=100_00)
    assert [m[0] for m in movements(payment)] == ["payment_hold", "payment_settle"]
    assert balances(wallet, provider) == (0, 100_00, 0, 0)


def test_same_token_same_values_is_the_same_payment(django_capture_on_commit_callbacks):
    provider = ProviderFactory()
    wallet = make_wallet(balance=500_00)
    token = services.payment_token_new(wallet=wallet)
    with django_capture_on_commit_callbacks(execute=True):
        first = pay(wallet, provider, amount=100_00, token=token)
        again = pay(wallet, provider, amount=100_00, token=token, account="0123-4567-8901-23")
    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert Transfer.objects.filter(kind="payment_hold").count() == 1
    assert balances(wallet, provider)[:2] == (400_00, 100_00)
    assert SmsMessage.objects.filter(phone=wallet.number).count() == 1


@pytest.mark.parametrize(
    "change", [{"amount": 200_00}, {"account": "99999999999999"}, {"provider": "other"}]
)
def test_same_token_other_values_is_refused(change):
    provider = ProviderFactory()
    wallet = make_wallet(balance=500_00)
    token = services.payment_token_new(wallet=wallet)
    pay(wallet, provider, amount=100_00, token=token)
    kwargs = {"amount": 100_00, "account": INN, "token": token} | change
    target = ProviderFactory() if kwargs.pop("provider", None) else provider
    with pytest.raises(ValidationError) as caught:
        pay(wallet, target, **kwargs)
    assert error_codes(caught.value) == {"token_reused"}
    assert Payment.objects.count() == 1
    assert ledger.balance_of(wallet.account) == 400_00


def test_token_of_another_wallet_is_refused():
    provider = ProviderFactory()
    mine, theirs = make_wallet(balance=100_00), make_wallet(balance=100_00)
    with pytest.raises(ValidationError) as caught:
        pay(mine, provider, token=services.payment_token_new(wallet=theirs))
    assert error_codes(caught.value) == {"token"}
    assert not Payment.objects.exists()


def test_used_token_of_another_wallet_is_refused_without_showing_the_payment():
    provider = ProviderFactory()
    theirs = make_wallet(balance=100_00)
    token = services.payment_token_new(wallet=theirs)
    pay(theirs, provider, token=token)
    with pytest.raises(ValidationError) as caught:
        pay(make_wallet(balance=100_00), provider, token=token)
    assert error_codes(caught.value) == {"token_reused"}


@pytest.mark.parametrize("token", ["", "forged", "1.abc:1u2v3w:bad-signature", "x" * 500, None])
def test_forged_token_is_refused(token):
    wallet = make_wallet(balance=100_00)
    with pytest.raises(ValidationError) as caught:
        services.payment_create(
            wallet=wallet, provider=ProviderFactory(), account=INN, amount=1_00, token=token
        )
    assert error_codes(caught.value) == {"token"}
    assert ledger.balance_of(wallet.account) == 100_00


def test_expired_token_is_refused(monkeypatch):
    wallet = make_wallet(balance=100_00)
    token = services.payment_token_new(wallet=wallet)
    monkeypatch.setattr(operations, "TOKEN_MAX_AGE", -1)
    with pytest.raises(ValidationError) as caught:
        pay(wallet, ProviderFactory(), token=token)
    assert error_codes(caught.value) == {"token_expired"}


def test_insufficient_balance_moves_nothing():
    provider = ProviderFactory(fee_fixed=1_00)
    wallet = make_wallet(balance=100_00)
    with pytest.raises(ValidationError) as caught:
        pay(wallet, provider, amount=100_00)  # 101,00 with the fee
    assert error_codes(caught.value) == {"insufficient_funds"}
    assert "100,00" in caught.value.messages[0] and "101,00" in caught.value.messages[0]
    assert not Payment.objects.exists()
    assert not Transfer.objects.exclude(kind="cashin").exists()
    assert balances(wallet, provider) == (100_00, 0, 0, 0)


def test_invalid_input_moves_nothing():
    wallet = make_wallet(balance=100_00)
    with pytest.raises(ValidationError):
        pay(wallet, ProviderFactory(), account="abc")
    assert not Payment.objects.exists()
    assert ledger.balance_of(wallet.account) == 100_00


class FakeGateway:
    outcome = gateways.Outcome(gateways.Status.RETRY)

    name = "fake"
    asynchronous = False

    def check(self, provider, *, account, amount):
        return gateways.Outcome(gateways.Status.SUCCEEDED)

    def pay(self, payment):
        return self.outcome


@pytest.fixture
def fake_gateway(monkeypatch):
    monkeypatch.setitem(gateways.GATEWAYS, "internal", FakeGateway)
    return FakeGateway


def test_failed_gateway_refunds_the_wallet(fake_gateway, django_capture_on_commit_callbacks):
    fake_gateway.outcome = gateways.Outcome(gateways.Status.FAILED, "account closed")
    provider = ProviderFactory(fee_fixed=2_00)
    wallet = make_wallet(balance=100_00)
    with django_capture_on_commit_callbacks(execute=True):
        payment = pay(wallet, provider, amount=50_00)
    assert (payment.status, payment.error) == ("failed", "account closed")
    assert [m[:4] for m in movements(payment)] == [
        ("payment_hold", wallet.account.code, "system:suspense", 52_00),
        ("payment_refund", "system:suspense", wallet.account.code, 52_00),
    ]
    assert balances(wallet, provider) == (100_00, 0, 0, 0)
    assert SmsMessage.objects.get(phone=wallet.number).text == (
        f"Капчык: платёж {payment.display_code}, {provider.name_ru} не прошёл; "
        "52,00 сом возвращены в кошелёк."
    )
    assert ledger.check() == []


def test_pending_gateway_keeps_money_in_suspense_until_settled(fake_gateway):
    fake_gateway.outcome = gateways.Outcome(gateways.Status.RETRY)
    provider = ProviderFactory()
    wallet = make_wallet(balance=100_00)
    payment = pay(wallet, provider, amount=60_00)
    assert payment.status == "pending"
    assert balances(wallet, provider) == (40_00, 0, 60_00, 0)
    services.payment_succeed(payment=payment)
    services.payment_succeed(payment=payment)  # compare-and-set: settles once
    services.payment_fail(payment=payment)  # too late: already succeeded
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert balances(wallet, provider) == (40_00, 60_00, 0, 0)
    assert ledger.check() == []


def test_ussd_channel_is_recorded():
    assert make_payment(channel="ussd").channel == "ussd"


def test_payment_queryset_for_wallet_recent(django_assert_num_queries):
    wallet = make_wallet(balance=1_000_00)
    provider = ProviderFactory()
    first = pay(wallet, provider, amount=1_00)
    second = pay(wallet, provider, amount=2_00)
    make_payment()  # someone else's
    with django_assert_num_queries(1):
        rows = list(Payment.objects.for_wallet(wallet).recent())
        assert [p.provider.category.name_ru for p in rows]
    assert [p.pk for p in rows] == [second.pk, first.pk]


def test_favourites_create_rename_delete():
    payment = make_payment(amount=150_00)
    user = payment.wallet.user
    fav = services.favourite_create(user=user, payment=payment, name="  Офис   СОчИ ")
    assert (fav.name, fav.provider_id, fav.account, fav.amount) == (
        "Офис СОчИ",
        payment.provider_id,
        INN,
        150_00,
    )
    assert list(Favourite.objects.for_user(user)) == [fav]
    services.favourite_rename(favourite=fav, name="Дом")
    fav.refresh_from_db()
    assert fav.name == "Дом"
    with pytest.raises(ValidationError):
        services.favourite_rename(favourite=fav, name="   ")
    with pytest.raises(ValidationError):
        services.favourite_rename(favourite=fav, name="x" * 61)
    services.favourite_delete(favourite=fav)
    assert not Favourite.objects.exists()


def test_favourite_of_someone_elses_payment_is_refused():
    payment = make_payment()
    with pytest.raises(ValidationError):
        services.favourite_create(user=UserFactory(), payment=payment, name="чужой")
    assert not Favourite.objects.exists()
