from django.utils.functional import SimpleLazyObject


def bell(request):
    """The unread count for the header's bell: one COUNT, and only on a page that shows it
    (a signed-in page's header); nothing for a visitor."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count():
        from .services import unread_count

        return unread_count(user=user)

    return {"notifications_unread": SimpleLazyObject(count)}
