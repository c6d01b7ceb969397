"""Favourites («Избранное»): a payment saved as a template under a name of the owner's."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from wallets.models import User

from ..models import Favourite, Payment

FAVOURITES_PER_USER = 50


def _clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ValidationError({"name": [_("Enter a name for the template.")]})
    if len(name) > 60:
        raise ValidationError({"name": [_("The name can have at most 60 characters.")]})
    return name


def favourite_create(*, user: User, payment: Payment, name: str) -> Favourite:
    """Save `payment` (the user's own) as a template named `name`."""
    if payment.wallet.user_id != user.pk:
        raise ValidationError(_("This payment is not yours."))
    name = _clean_name(name)
    if Favourite.objects.filter(user=user).count() >= FAVOURITES_PER_USER:
        raise ValidationError(
            _("You can keep at most %(n)s templates. Delete one first.")
            % {"n": FAVOURITES_PER_USER}
        )
    return Favourite.objects.create(
        user=user,
        provider_id=payment.provider_id,
        account=payment.account,
        amount=payment.amount,
        name=name,
    )


def favourite_rename(*, favourite: Favourite, name: str) -> Favourite:
    favourite.name = _clean_name(name)
    Favourite.objects.filter(pk=favourite.pk).update(name=favourite.name)
    return favourite


def favourite_delete(*, favourite: Favourite) -> None:
    Favourite.objects.filter(pk=favourite.pk).delete()
