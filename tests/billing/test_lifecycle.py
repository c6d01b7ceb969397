"""The operation life cycle as a bill payment uses it: one commit for an internal payment
(statements counted), the token binding the price the confirm page showed, the status table
and its database guard."""

import html

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from billing import services
from billing.models import Payment
from notifications.models import Notification
from tests.billing.helpers import INN, confirm_data, next_step, text
from tests.factories import ProviderFactory, make_wallet
from wallets import ledger, operations
from wallets.models import SmsMessage, Transfer

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class Statements:
    """Every statement run, and how many commits they made (an atomic block's commit, or
    a statement run outside any transaction: autocommitted)."""

    def __init__(self):
        self.sql, self.commits = [], 0

    def __call__(self, execute, sql, params, many, context):
        if not connection.in_atomic_block and not sql.startswith("BEGIN"):
            self.commits += 1
        self.sql.append(sql)
        return execute(sql, params, many, context)


def count_payment(wallet, provider, amount):
    quote = services.payment_quote(
        wallet=wallet, provider=provider, account=INN, amount=amount, check=False
    )
    token = services.payment_token_new(wallet=wallet, quote=quote)
    seen = Statements()
    commit = connection.commit
    commits = []

    def counting_commit():
        commits.append(1)
        return commit()

    connection.commit = counting_commit
    try:
        with connection.execute_wrapper(seen):
            payment = services.payment_create(
                wallet=wallet, provider=provider, account=INN, amount=amount, token=token
            )
    finally:
        del connection.commit
    return payment, seen.sql, len(commits) + seen.commits


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fee", [0, 5_00])
def test_an_internal_payment_is_seven_statements_in_one_commit(settings, fee):
    settings.TASKS = DB_TASKS
    provider = ProviderFactory(fee_fixed=fee)
    wallet = make_wallet(balance=1_000_00)
    for _ in range(2):  # warm: the system accounts are looked up once per process
        services.payment_create(
            wallet=wallet,
            provider=provider,
            account=INN,
            amount=1_00,
            token=services.payment_token_new(wallet=wallet),
        )
    payment, sql, commits = count_payment(wallet, provider, 100_00)
    assert payment.status == "succeeded"
    # (SQLite opens its transaction with a statement of its own, BEGIN IMMEDIATE.)
    ours = [
        statement.replace('"', "").split() for statement in sql if statement != "BEGIN IMMEDIATE"
    ]
    assert [" ".join(words[:3:2] if words[0] == "INSERT" else words[:2]) for words in ours] == [
        "INSERT billing_payment",
        "INSERT wallets_transfer",
        "UPDATE wallets_account",
        "INSERT wallets_ledgerentry",
        "INSERT notifications_notification",
        "INSERT wallets_smsmessage",
        "INSERT django_tasks_database_dbtaskresult",  # delivers the SMS (and any Web Push)
    ], "\n".join(sql)
    assert commits == 1
    assert ledger.balance_of(wallet.account) == 1_000_00 - 2 * 1_00 - 100_00 - 3 * fee
    assert ledger.balance_of(provider.account) == 102_00
    kinds = Transfer.objects.filter(idempotency_key__startswith=f"payment:{payment.code}:")
    expected = ["payment_hold", "payment_settle"] + (["payment_fee"] if fee else [])
    assert list(kinds.order_by("id").values_list("kind", flat=True)) == expected
    assert SmsMessage.objects.filter(status="queued").count() == 3  # sent by the worker
    assert Notification.objects.filter(user=wallet.user, kind="payment_succeeded").count() == 3
    assert ledger.check() == []


def test_a_changed_fee_is_refused_at_the_confirm_page(client, catalogue):
    wallet = make_wallet(balance=1_000_00)
    client.force_login(wallet.user)
    dostek = catalogue["dostek"]
    shown = next_step(client, dostek, INN, "100")
    assert "Комиссия 0,00 сом" in html.unescape(text(shown))
    dostek.fee_fixed = 3_00  # staff change the fee while the page is open
    dostek.save()
    again = client.post("/pay/dostek/confirm/", confirm_data(shown))
    assert again.status_code == 200
    page = html.unescape(text(again))
    assert "Цена изменилась после того, как было показано подтверждение." in page
    assert "Комиссия 3,00 сом" in page and "Итого 103,00 сом" in page
    assert not Payment.objects.exists()
    assert ledger.balance_of(wallet.account) == 1_000_00
    # The page now shows the new price and binds it: paying it works.
    paid = client.post("/pay/dostek/confirm/", confirm_data(again))
    assert paid.status_code == 302
    assert Payment.objects.get().total == 103_00
    assert ledger.balance_of(wallet.account) == 897_00


def test_a_token_binds_amount_and_account():
    provider = ProviderFactory()
    wallet = make_wallet(balance=1_000_00)
    quote = services.payment_quote(
        wallet=wallet, provider=provider, account=INN, amount=100_00, check=False
    )
    token = services.payment_token_new(wallet=wallet, quote=quote)
    for account, amount in ((INN, 999_00), ("98765432109876", 100_00)):
        with pytest.raises(ValidationError) as caught:
            services.payment_create(
                wallet=wallet, provider=provider, account=account, amount=amount, token=token
            )
        assert operations.codes_of(caught.value) == {"token"}
    assert not Payment.objects.exists()
    other = make_wallet(balance=1_000_00)
    with pytest.raises(ValidationError) as caught:
        services.payment_create(
            wallet=other, provider=provider, account=INN, amount=100_00, token=token
        )
    assert operations.codes_of(caught.value) == {"token"}
    assert ledger.balance_of(wallet.account) == ledger.balance_of(other.account) == 1_000_00


def test_the_status_table_refuses_what_it_does_not_list():
    lifecycle = services.LIFECYCLE
    assert lifecycle.final() == ["failed", "succeeded"]
    assert lifecycle.sources("failed") == ["needs_attention", "pending"]
    with pytest.raises(ValueError):
        lifecycle.move(1, to="pending", sources=["succeeded"])


def test_postgresql_refuses_a_final_payment_moving_on(is_postgres):
    if not is_postgres:
        pytest.skip("the trigger is PostgreSQL's")
    wallet = make_wallet(balance=100_00)
    payment = services.payment_create(
        wallet=wallet,
        provider=ProviderFactory(),
        account=INN,
        amount=10_00,
        token=services.payment_token_new(wallet=wallet),
    )
    assert payment.status == "succeeded"
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(status="pending", settled_at=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(status="failed")
