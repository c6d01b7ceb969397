from django.utils.functional import SimpleLazyObject


def bell(request):
    """The unread count for the header's bell: one COUNT, and only on a page that shows it
    (a signed-in page's header); nothing for a visitor. A page that loaded the wallet with
    wallets.services.wallet_of_page has it already (counted in that query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    known = getattr(request, "notifications_unread", None)
    if known is not None:
        return {"notifications_unread": known}

    def count():
        from .services import unread_count

        return unread_count(user=user)

    return {"notifications_unread": SimpleLazyObject(count)}
