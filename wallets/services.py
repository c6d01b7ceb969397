"""Wallet operations: opening wallets and topping them up (cash-in)."""

import uuid

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from . import ledger, limits
from .audit import Origin, audit_record
from .models import Account, AuditLog, CashIn, Offer, Transfer, User, Wallet
from .rows import Joined


def wallet_open(*, user: User) -> Wallet:
    """Give `user` a wallet whose number is their phone number, at the base level
    (wallets.limits); idempotent."""
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
        limits.wallet_limits_start(wallet=wallet)
    return wallet


def _page_wallet(extra: tuple[str, ...]) -> Joined:
    from notifications.models import Notification

    return Joined(
        Wallet,
        ["account"],
        extra=[
            f"(SELECT COUNT(*) FROM {Notification._meta.db_table} n "  # noqa: S608
            "WHERE n.user_id = t0.user_id AND n.read_at IS NULL)",
            *extra,
        ],
        where="t0.user_id = %s",
    )


_page_wallet_queries: dict[tuple[str, ...], Joined] = {}


def wallet_of_page(request, *, extra: tuple[str, ...] = ()) -> Wallet:
    """The signed-in user's wallet (with its ledger account) for a page, in one statement
    (wallets.rows) that also counts the user's unread notifications for the header's bell:
    the count is kept on the request (`notifications_unread`), where
    notifications.context_processors.bell takes it instead of a COUNT of its own. The user
    is the request's, not loaded again. `extra`: SQL expressions the page needs beside
    (on t0, the wallet), in the same statement; their values are `wallet.page_extra`."""
    query = _page_wallet_queries.get(extra)
    if query is None:
        query = _page_wallet_queries[extra] = _page_wallet(extra)
    wallet, values = query.first([request.user.pk])
    if wallet is None:
        wallet = wallet_open(user=request.user)
        wallet.page_extra = [None] * len(extra)
        return wallet
    wallet.user = request.user
    request.notifications_unread = int(values[0])
    wallet.page_extra = values[1:]
    return wallet


def cashin_create(
    *,
    wallet: Wallet,
    amount: int,
    reason: str,
    created_by: User | None,
    key: str | None = None,
    origin: Origin | None = None,
) -> CashIn:
    """Credit `wallet` with `amount` tyiyn from the cash-in desk, with a CashIn row.

    Guarantees: the transfer and its CashIn record commit together; with a `key`, a
    repeated call (a resubmitted form, a retried command) credits at most once. With an
    `origin` (a staff action from the admin or a command), an AuditLog row commits with
    them too — once, like the credit.
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
        cashin, created = CashIn.objects.get_or_create(
            transfer=moved,
            defaults={
                "wallet": wallet,
                "amount": amount,
                "reason": reason,
                "created_by": created_by,
                "created_at": moved.created_at,
            },
        )
        if created and origin is not None:
            audit_record(
                actor=created_by,
                action=AuditLog.Action.CASHIN,
                origin=origin,
                target=wallet,
                amount=amount,
                details={"reason": reason, "cashin": cashin.pk, "transfer": moved.pk},
            )
    return cashin


def offer_accept(*, user: User, offer: Offer) -> None:
    """Record that `user` accepted `offer` now."""
    User.objects.filter(pk=user.pk).update(offer_version=offer, offer_accepted_at=timezone.now())
    user.offer_version = offer
    user.offer_accepted_at = timezone.now()


def web_registration_start(*, phone: str, language: str) -> User:
    """The user who is registering `phone` on the web, before the number is proven.

    An existing user without a web password (a wallet opened through USSD, or an earlier
    registration never confirmed) is returned unchanged; otherwise a new user with no
    usable password is created. Nothing else is written until the SMS code is right
    (web_account_register).
    """
    user, _created = User.objects.get_or_create(
        phone=phone, defaults={"language": language, "password": make_password(None)}
    )
    return user


def web_account_register(*, user: User, email: str, password_hash: str, offer: Offer) -> Wallet:
    """Give `user`, whose number the SMS code has just proven, web access and a wallet.

    Writes the email, the (already hashed) password and the accepted offer together;
    the wallet opens if it is not open yet. `user` is updated in place.
    """
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(
            email=email, password=password_hash, phone_verified=True
        )
        user.email, user.password, user.phone_verified = email, password_hash, True
        email_address_sync(user=user)
        offer_accept(user=user, offer=offer)
        return wallet_open(user=user)


def email_address_sync(*, user: User):
    """allauth's EmailAddress row for `user.email`: there, and primary (unverified until
    its link is opened). Addresses waiting for their link stay as they are."""
    from allauth.account.models import EmailAddress

    if not user.email:
        return None
    address, _created = EmailAddress.objects.get_or_create(
        user=user, email=user.email.lower(), defaults={"primary": True}
    )
    if not address.primary:
        EmailAddress.objects.filter(user=user, primary=True).update(primary=False)
        EmailAddress.objects.filter(pk=address.pk).update(primary=True)
        address.primary = True
    return address


def sessions_end_others(*, user: User, keep_session_key: str | None) -> None:
    """End every session of `user` (web sign-ins on any server) except `keep_session_key`,
    and forget every trusted device of theirs (quick sign-in by PIN, wallets.devices).

    Guarantees: a new random session_salt changes user.get_session_auth_hash(), so every
    session signed in before is refused (and flushed) on its next request — no scan of the
    session table. The kept session, when it is one of `user`'s, is re-hashed in the
    session store and stays signed in. A view holding that session as request.session must
    then call update_session_auth_hash(request, user): the request saves its session at
    the end and would otherwise write the old hash back. `user` is updated in place.
    """
    import secrets
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY

    from .models import TrustedDevice

    user.session_salt = secrets.token_hex(16)
    User.objects.filter(pk=user.pk).update(session_salt=user.session_salt)
    # Trusted devices sign in without the password: they are forgotten as well.
    TrustedDevice.objects.filter(user=user).delete()
    if not keep_session_key:
        return
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=keep_session_key)
    if store.get(SESSION_KEY) == str(user.pk):
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
