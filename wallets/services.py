"""Wallet operations: opening wallets and topping them up (cash-in)."""

import uuid

from django.db import transaction
from django.utils import timezone

from . import ledger
from .models import Account, CashIn, Offer, Transfer, User, Wallet


def wallet_open(*, user: User) -> Wallet:
    """Give `user` a wallet whose number is their phone number; idempotent."""
    existing = Wallet.objects.filter(user=user).select_related("account").first()
    if existing:
        return existing
    with transaction.atomic():
        account = ledger.open_account(
            kind=Account.Kind.WALLET, code=f"wallet:{user.phone}", name=str(user)
        )
        wallet, _ = Wallet.objects.get_or_create(
            user=user, defaults={"number": user.phone, "account": account}
        )
    return wallet


def cashin_create(
    *, wallet: Wallet, amount: int, reason: str, created_by: User | None, key: str | None = None
) -> CashIn:
    """Credit `wallet` with `amount` tyiyn from the cash-in desk, with an audit row.

    Guarantees: the transfer and its CashIn record commit together; with a `key`, a
    repeated call (a resubmitted form, a retried command) credits at most once.
    """
    with transaction.atomic(durable=True):
        key = key or f"cashin:{uuid.uuid4().hex}"
        moved = ledger.transfer(
            debit=ledger.system_account(Account.Kind.CASHIN),
            credit=wallet.account,
            amount=amount,
            key=key,
            kind=Transfer.Kind.CASHIN,
            memo=reason,
            created_by=created_by,
        )
        cashin, _ = CashIn.objects.get_or_create(
            transfer=moved,
            defaults={
                "wallet": wallet,
                "amount": amount,
                "reason": reason,
                "created_by": created_by,
                "created_at": moved.created_at,
            },
        )
    return cashin


def offer_accept(*, user: User, offer: Offer) -> None:
    """Record that `user` accepted `offer` now."""
    User.objects.filter(pk=user.pk).update(offer_version=offer, offer_accepted_at=timezone.now())
    user.offer_version = offer
    user.offer_accepted_at = timezone.now()
