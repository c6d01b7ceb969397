"""The demo merchant, loaded by `manage.py demo` (make run): «КАФЕ "КЕНТ"» (MCC 5812, the
seed's merchant) with one cashier wallet, so that a new user can try both sides of a QR
payment. Idempotent; never loaded by a migration."""

from .models import Merchant

NAME_RU = 'КАФЕ "КЕНТ"'
NAME_KY = 'КАФЕ "КЕНТ"'
MCC = "5812"
CASHIER_PHONE = "+996700123456"


def load(*, cashier) -> Merchant:
    from .services import merchant_create

    merchant = Merchant.objects.filter(name_ru=NAME_RU).first()
    if merchant is None:
        merchant = merchant_create(name_ru=NAME_RU, name_ky=NAME_KY, mcc=MCC)
    merchant.cashiers.add(cashier)
    return merchant
