"""Paying a merchant by QR: the services, with exact balances and ledger rows."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from qr import elqr, services
from qr.models import DynamicCode, QrPayment
from tests.factories import make_wallet
from wallets import ledger, operations
from wallets.models import Account, SmsMessage, Transfer

from .payments import merchant

pytestmark = pytest.mark.django_db


def _pay(wallet, link, amount):
    scan = services.scan_resolve(link)
    quote = services.qr_quote(wallet=wallet, scan=scan, amount=amount)
    token = services.qr_token_new(wallet=wallet, quote=quote)
    return services.qr_payment_create(wallet=wallet, link=link, amount=amount, token=token), token


def test_merchant_has_its_own_hot_account():
    m = merchant()
    assert m.account.kind == Account.Kind.PROVIDER
    assert m.account.is_hot
    assert m.account.code.startswith("merchant:")


def test_static_code_names_us_and_the_merchant():
    m = merchant()
    code = elqr.parse(services.merchant_link(m))
    assert code.type == "static"
    assert code.provider_id == "kapchyk.kg"
    assert code.merchant_id == str(m.pk)
    assert code.mcc == "5812"
    assert code.amount is None and code.amount_editable
    assert services.merchant_link(m).startswith("https://qr.kapchyk.kg/#")


def test_static_payment_moves_wallet_to_merchant_and_notifies():
    cashier = make_wallet()
    m = merchant(cashier=cashier)
    payer = make_wallet(balance=1_000_00)
    payment, token = _pay(payer, services.merchant_link(m), 250_50)
    assert payment.status == "succeeded"
    assert (payment.amount, payment.fee, payment.total) == (250_50, 0, 250_50)
    assert payment.transaction_id is None
    assert ledger.balance_of(payer.account) == 749_50
    assert ledger.balance_of(m.account) == 250_50
    row = Transfer.objects.get(idempotency_key=f"qr:{payment.pk}:pay")
    assert (row.debit_id, row.credit_id, row.amount) == (payer.account.pk, m.account.pk, 250_50)
    assert ledger.check() == []
    texts = dict(SmsMessage.objects.values_list("phone", "text"))
    assert "250,50" in texts[payer.number] and payment.display_code in texts[payer.number]
    assert 'КАФЕ "КЕНТ"' in texts[cashier.number]


def test_same_token_again_is_the_same_payment():
    m = merchant()
    payer = make_wallet(balance=1_000_00)
    link = services.merchant_link(m)
    payment, token = _pay(payer, link, 100_00)
    again = services.qr_payment_create(wallet=payer, link=link, amount=100_00, token=token)
    assert again.pk == payment.pk
    assert QrPayment.objects.count() == 1
    assert ledger.balance_of(payer.account) == 900_00


def test_token_bound_to_amount():
    m = merchant()
    payer = make_wallet(balance=1_000_00)
    link = services.merchant_link(m)
    scan = services.scan_resolve(link)
    token = services.qr_token_new(
        wallet=payer, quote=services.qr_quote(wallet=payer, scan=scan, amount=100_00)
    )
    with pytest.raises(ValidationError) as exc:
        services.qr_payment_create(wallet=payer, link=link, amount=900_00, token=token)
    assert operations.codes_of(exc.value) == {"token"}
    assert not QrPayment.objects.exists()
    assert ledger.balance_of(payer.account) == 1_000_00


def test_short_balance_refused_nothing_moved():
    m = merchant()
    payer = make_wallet(balance=10_00)
    with pytest.raises(ValidationError) as exc:
        _pay(payer, services.merchant_link(m), 10_01)
    assert operations.codes_of(exc.value) == {"insufficient_funds"}
    assert not QrPayment.objects.exists()
    assert ledger.balance_of(payer.account) == 10_00
    assert ledger.balance_of(m.account) == 0


def test_dynamic_code_paid_once():
    cashier = make_wallet()
    m = merchant(cashier=cashier)
    dynamic = services.dynamic_code_create(merchant=m, cashier=cashier, amount=345_00)
    assert dynamic.expires_at - dynamic.created_at == datetime.timedelta(minutes=15)
    link = services.dynamic_link(dynamic)
    code = elqr.parse(link)
    assert (code.type, code.amount, code.amount_editable) == ("dynamic", 345_00, False)
    assert code.transaction_id == dynamic.transaction_id
    first, second = make_wallet(balance=1_000_00), make_wallet(balance=1_000_00)
    payment, _token = _pay(first, link, None)
    assert payment.amount == 345_00
    assert payment.transaction_id == dynamic.transaction_id
    with pytest.raises(ValidationError) as exc:
        _pay(second, link, None)
    assert operations.codes_of(exc.value) == {"already_paid"}
    assert ledger.balance_of(first.account) == 655_00
    assert ledger.balance_of(second.account) == 1_000_00
    assert ledger.balance_of(m.account) == 345_00


def test_dynamic_code_already_paid_at_confirm_time():
    """Both payers saw the confirm page; the second «Оплатить» finds the code paid."""
    cashier = make_wallet()
    m = merchant(cashier=cashier)
    link = services.dynamic_link(
        services.dynamic_code_create(merchant=m, cashier=cashier, amount=50_00)
    )
    first, second = make_wallet(balance=100_00), make_wallet(balance=100_00)
    tokens = []
    for wallet in (first, second):
        quote = services.qr_quote(wallet=wallet, scan=services.scan_resolve(link), amount=None)
        tokens.append(services.qr_token_new(wallet=wallet, quote=quote))
    services.qr_payment_create(wallet=first, link=link, amount=50_00, token=tokens[0])
    with pytest.raises(ValidationError) as exc:
        services.qr_payment_create(wallet=second, link=link, amount=50_00, token=tokens[1])
    assert operations.codes_of(exc.value) == {"already_paid"}
    assert QrPayment.objects.count() == 1


def test_expired_dynamic_code_refused():
    cashier = make_wallet()
    m = merchant(cashier=cashier)
    dynamic = services.dynamic_code_create(merchant=m, cashier=cashier, amount=50_00)
    DynamicCode.objects.filter(pk=dynamic.pk).update(expires_at=timezone.now())
    with pytest.raises(ValidationError) as exc:
        services.scan_resolve(services.dynamic_link(dynamic))
    assert operations.codes_of(exc.value) == {"expired"}


def test_only_cashiers_make_dynamic_codes():
    m = merchant()
    with pytest.raises(ValidationError) as exc:
        services.dynamic_code_create(merchant=m, cashier=make_wallet(), amount=10_00)
    assert operations.codes_of(exc.value) == {"not_cashier"}
    assert not DynamicCode.objects.exists()


def test_fixed_amount_static_code_refuses_another_amount():
    m = merchant()
    link = services.codes.link(
        services.codes.our_code(
            type="static", merchant_id=str(m.pk), amount=70_00, amount_editable=False
        )
    )
    scan = services.scan_resolve(link)
    assert scan.fixed_amount == 70_00
    payer = make_wallet(balance=100_00)
    with pytest.raises(ValidationError) as exc:
        services.qr_quote(wallet=payer, scan=scan, amount=1_00)
    assert operations.codes_of(exc.value) == {"amount_fixed"}
    assert services.qr_quote(wallet=payer, scan=scan, amount=None).amount == 70_00


def test_foreign_code_is_named_and_refused():
    from .payments import foreign_link

    with pytest.raises(ValidationError) as exc:
        services.scan_resolve(foreign_link())
    (error,) = exc.value.error_dict["__all__"]
    assert error.code == "foreign"
    assert error.params == {"bank": "MBank", "name": "KIRILL B."}


def test_our_code_of_an_unknown_merchant():
    link = services.codes.link(services.codes.our_code(type="static", merchant_id="999999"))
    with pytest.raises(ValidationError) as exc:
        services.scan_resolve(link)
    assert operations.codes_of(exc.value) == {"unknown_payee"}


def test_a_qr_payment_past_a_limit_is_refused_with_the_limit_and_moves_nothing():
    from tests.wallets.test_limits import level

    m = merchant()
    payer = make_wallet(balance=1_000_00, level=level(limit_operation=200_00))
    with pytest.raises(ValidationError) as caught:
        _pay(payer, services.merchant_link(m), 200_01)
    assert operations.codes_of(caught.value) == {"limit_exceeded"}
    assert "200,00" in caught.value.messages[0]
    assert not QrPayment.objects.exists()
    assert ledger.balance_of(payer.account) == 1_000_00
    assert ledger.balance_of(m.account) == 0
    payment, _token = _pay(payer, services.merchant_link(m), 200_00)  # exactly at: paid
    assert payment.status == "succeeded"
