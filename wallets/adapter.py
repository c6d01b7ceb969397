"""allauth adapter: the user's phone number is the login (E.164), the wallet opens on verification."""

from allauth.account.adapter import DefaultAccountAdapter

from . import services
from .models import User
from .sms import send_sms


class AccountAdapter(DefaultAccountAdapter):
    def set_phone(self, user, phone, verified):
        user.phone = phone
        user.phone_verified = verified
        user.save(update_fields=["phone", "phone_verified"]) if user.pk else None

    def get_phone(self, user):
        if not user.phone:
            return None
        return user.phone, user.phone_verified

    def set_phone_verified(self, user, phone):
        User.objects.filter(pk=user.pk).update(phone_verified=True)
        user.phone_verified = True
        services.wallet_open(user=user)

    def get_user_by_phone(self, phone):
        return User.objects.filter(phone=phone).first()

    def send_verification_code_sms(self, user, phone, code, **kwargs):
        from django.utils.translation import gettext as _

        send_sms(
            phone=phone,
            text=_("Kapchyk code: %(code)s. Do not tell it to anyone.") % {"code": code},
        )
