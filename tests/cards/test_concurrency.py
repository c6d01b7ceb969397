"""Top-ups under concurrency, on PostgreSQL: threads released together by a Barrier.
A double «Пополнить» makes one top-up; many sweeps at once credit it once; the last try
of a linking is used once."""

import pytest
from django.db import connection

from cards import services
from cards.models import Card, TopUp
from tests.concurrency import run_together
from wallets import ledger
from wallets.models import Transfer

from .conftest import ELCART, held_on_statement, start

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


@pytest.fixture
def queued(settings):
    """The database task queue: nothing runs in-process; the sweeps do the work."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _linked(wallet, acquirer):
    card = start(wallet)
    services.card_link_confirm(wallet=wallet, card=card, typed=held_on_statement(acquirer, ELCART))
    card.refresh_from_db()
    return card


def test_double_click_and_parallel_sweeps_credit_once(wallet, acquirer, queued):
    card = _linked(wallet, acquirer)
    quote = services.topup_quote(wallet=wallet, card=card, amount=500_00)
    token = services.topup_token_new(wallet=wallet, quote=quote)
    made = run_together(
        6,
        lambda i: services.topup_create(wallet=wallet, card=card, amount=500_00, token=token).pk,
    )
    assert len(set(made)) == 1 and TopUp.objects.count() == 1
    run_together(6, lambda i: services.topups_sweep())
    topup = TopUp.objects.get()
    assert topup.status == "succeeded"
    assert Transfer.objects.filter(idempotency_key=f"{topup.key}:credit").count() == 1
    assert ledger.balance_of(wallet.account) == 500_00
    assert [o["state"] for o in acquirer.operations() if o["key"] == topup.key] == ["charged"]
    assert ledger.check() == []


def test_the_last_try_is_used_once(wallet, acquirer, queued):
    card = start(wallet)
    Card.objects.filter(pk=card.pk).update(tries=2)
    card.refresh_from_db()
    held = acquirer.held_amount(ELCART)
    wrong = held + 1 if held < 9_99 else held - 1
    typed = f"{wrong // 100},{wrong % 100:02d}"
    run_together(5, lambda i: services.card_link_confirm(wallet=wallet, card=card, typed=typed))
    card.refresh_from_db()
    assert (card.status, card.tries) == ("failed", 3)


def test_postgresql_refuses_a_transition_the_table_does_not_allow(wallet, acquirer, queued):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    card = _linked(wallet, acquirer)
    topup = TopUp.objects.create(
        wallet=wallet,
        card=card,
        amount=100_00,
        token="t",
        status="declined",
        settled_at=timezone.now(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        TopUp.objects.filter(pk=topup.pk).update(status="succeeded")
    topup.refresh_from_db()
    assert topup.status == "declined"
