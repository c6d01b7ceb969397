"""The staff groups and their permissions (created by migration 0005_staff_groups).

Provider setup, cash-in and refunds are separate permissions, in separate groups; support
looks and moves no money. Superusers (is_superuser) have everything, including users,
groups and the authenticators of staff.

- providers:  set up the catalogue (categories, providers and their account rules);
- cash desk:  credit a wallet from the cash desk (wallets.add_cashin) and see cash-ins;
- refunds:    refund or retry a payment (billing.refund_payment, billing.retry_payment);
- identification: raise or lower a wallet's identification level (wallets.set_level,
  from the wallet's admin page, audit-logged) and read the levels and their history;
- support:    read wallets, payments, transfers, cash-ins, the catalogue and the audit log.
  Not the SMS outbox: it holds sign-in codes.
"""

SUPPORT_READS = [
    "wallets.view_user",
    "wallets.view_wallet",
    "wallets.view_account",
    "wallets.view_transfer",
    "wallets.view_cashin",
    "wallets.view_offer",
    "wallets.view_auditlog",
    "billing.view_payment",
    "billing.view_favourite",
    "providers.view_category",
    "providers.view_provider",
]

GROUPS: dict[str, list[str]] = {
    "providers": [
        f"providers.{action}_{model}"
        for model in ("category", "provider")
        for action in ("add", "change", "delete", "view")
    ],
    "cash desk": [
        "wallets.add_cashin",
        "wallets.view_cashin",
        "wallets.view_wallet",
    ],
    "refunds": [
        "billing.refund_payment",
        "billing.retry_payment",
        "billing.view_payment",
        "wallets.view_wallet",
    ],
    "support": SUPPORT_READS,
    "identification": [
        "wallets.set_level",
        "wallets.view_wallet",
        "wallets.view_level",
        "wallets.view_levelchange",
    ],
}

# The groups each migration creates (0005_staff_groups, 0010_levels_data).
FIRST = ("providers", "cash desk", "refunds", "support")


def load(Group, Permission, names=None) -> None:
    """Create the groups `names` (default: all) with exactly their permissions (models may
    be historical)."""
    for name, perms in GROUPS.items():
        if names is not None and name not in names:
            continue
        group, _created = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
