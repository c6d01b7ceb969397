"""IDOR sweep: a URL that names someone's object (a payment code, a template's id) answers
anyone else with 404, and changes nothing.

The list of URLs comes from the resolver: a new URL with a parameter fails
`test_every_url_with_a_parameter_is_in_the_sweep` until it is added to OWNED (with how to
build its owner's URL) or to PUBLIC (with the reason anyone may open it). Admin URLs are
staff only: `test_admin_urls_are_closed_to_everyone_but_staff_with_a_second_factor`.
"""

from dataclasses import dataclass

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Favourite
from cards.models import Card, TopUp
from qr import services as qr_services
from tests.factories import ProviderFactory, UserFactory, make_payment, make_wallet
from tests.security.urls import all_routes
from tests.transfers.helpers import send
from wallets.models import TrustedDevice

pytestmark = pytest.mark.django_db


@dataclass
class Objects:
    payment: object
    favourite: object
    merchant: object = None  # the owner's wallet is its cashier
    dynamic: object = None
    qr_payment: object = None
    transfer: object = None
    card: object = None
    topup: object = None
    device: object = None
    passkey: object = None


def owned_objects(owner) -> Objects:
    provider = ProviderFactory()
    wallet = make_wallet(balance=1_000_00, user=owner)
    payment = make_payment(wallet=wallet, provider=provider, amount=100_00)
    favourite = Favourite.objects.create(
        user=owner, provider=provider, account=payment.account, name="Дом"
    )
    card = Card.objects.create(
        wallet=wallet,
        name="Моя",
        brand="visa",
        masked="411111******1111",
        exp_month=12,
        exp_year=2030,
        fingerprint="f",
        token="tok",
        status="linked",
        linked_at=timezone.now(),
    )
    topup = TopUp.objects.create(wallet=wallet, card=card, amount=100_00, token="idor")
    merchant = qr_services.merchant_create(name_ru="Кафе", mcc="5812", cashiers=[wallet])
    dynamic = qr_services.dynamic_code_create(merchant=merchant, cashier=wallet, amount=5_00)
    link = qr_services.merchant_link(merchant)
    quote = qr_services.qr_quote(wallet=wallet, scan=qr_services.scan_resolve(link), amount=1_00)
    qr_payment = qr_services.qr_payment_create(
        wallet=wallet,
        link=link,
        amount=1_00,
        token=qr_services.qr_token_new(wallet=wallet, quote=quote),
    )
    # Sent by the owner to a third person (neither the stranger nor the owner's own wallet).
    transfer = send(wallet, make_wallet(), 10_00)
    device = TrustedDevice.objects.create(
        user=owner, public_id=f"idor{owner.pk}", public_key="x", name="Chrome, Android"
    )
    passkey = Authenticator.objects.create(
        user=owner, type=Authenticator.Type.WEBAUTHN, data={"name": "Ключ", "credential": {}}
    )
    return Objects(
        device=device,
        passkey=passkey,
        payment=payment,
        favourite=favourite,
        merchant=merchant,
        dynamic=dynamic,
        qr_payment=qr_payment,
        transfer=transfer,
        card=card,
        topup=topup,
    )


# name → (method, the owner's URL, the data of a POST)
OWNED = {
    "billing:receipt": lambda o: ("get", reverse("billing:receipt", args=[o.payment.code]), {}),
    "billing:favourite_add": lambda o: (
        "post",
        reverse("billing:favourite_add", args=[o.payment.code]),
        {"name": "Чужой"},
    ),
    "billing:favourite_use": lambda o: (
        "get",
        reverse("billing:favourite_use", args=[o.favourite.pk]),
        {},
    ),
    "billing:favourite_edit": lambda o: (
        "post",
        reverse("billing:favourite_edit", args=[o.favourite.pk]),
        {"name": "Взломано"},
    ),
    "transfers:receipt": lambda o: (
        "get",
        reverse("transfers:receipt", args=[o.transfer.code]),
        {},
    ),
    "billing:favourite_delete": lambda o: (
        "post",
        reverse("billing:favourite_delete", args=[o.favourite.pk]),
        {},
    ),
    "qr:receipt": lambda o: ("get", reverse("qr:receipt", args=[o.qr_payment.code]), {}),
    "qr:cashier": lambda o: ("post", reverse("qr:cashier", args=[o.merchant.pk]), {"amount": "9"}),
    "qr:dynamic": lambda o: (
        "get",
        reverse("qr:dynamic", args=[o.merchant.pk, o.dynamic.transaction_id]),
        {},
    ),
    "qr:statement": lambda o: ("get", reverse("qr:statement", args=[o.merchant.pk]), {}),
    "qr:sticker": lambda o: ("get", reverse("qr:sticker", args=[o.merchant.pk]), {}),
    "qr:sticker_png": lambda o: ("get", reverse("qr:sticker_png", args=[o.merchant.pk]), {}),
    "cards:confirm": lambda o: ("get", reverse("cards:confirm", args=[o.card.pk]), {}),
    "cards:remove": lambda o: ("post", reverse("cards:remove", args=[o.card.pk]), {}),
    "wallets:device_remove": lambda o: (
        "post",
        reverse("wallets:device_remove", args=[o.device.pk]),
        {},
    ),
    "mfa_remove_webauthn": lambda o: (
        "post",
        reverse("mfa_remove_webauthn", args=[o.passkey.pk]),
        {},
    ),
    "mfa_edit_webauthn": lambda o: (
        "post",
        reverse("mfa_edit_webauthn", args=[o.passkey.pk]),
        {"name": "Взломано"},
    ),
    "cards:topup_receipt": lambda o: (
        "get",
        reverse("cards:topup_receipt", args=[o.topup.pk]),
        {},
    ),
}

# name → why anyone may open it
PUBLIC = {
    "providers:category": "a catalogue category by slug: the public catalogue",
    "billing:pay": "a provider by slug: the public catalogue; pays from the visitor's own wallet",
    "billing:confirm": "a provider by slug; confirms a payment from the visitor's own wallet",
    "billing:receipt_shared": "the receipt's signed token in the URL is the proof (a bare "
    "payment code is 404: tests/billing/test_receipt_share.py)",
    "account_confirm_email": "the secret one-time key in the URL is the proof (allauth)",
    "account_reset_password_from_key": "the secret one-time key in the URL is the proof",
}


def test_every_url_with_a_parameter_is_in_the_sweep():
    with_parameters = {r.label for r in all_routes() if r.params and not r.is_admin}
    unlisted = with_parameters - OWNED.keys() - PUBLIC.keys()
    assert not unlisted, f"add to OWNED or PUBLIC in {__file__}: {sorted(unlisted)}"
    stale = (OWNED.keys() | PUBLIC.keys()) - with_parameters
    assert not stale, f"no such URL any more: {sorted(stale)}"


@pytest.mark.parametrize("name", sorted(OWNED))
def test_the_owner_can_open_it(client, name):
    owner = UserFactory()
    method, url, data = OWNED[name](owned_objects(owner))
    client.force_login(owner)
    response = getattr(client, method)(url, data)
    assert response.status_code in (200, 302), response.status_code


@pytest.mark.parametrize("name", sorted(OWNED))
def test_a_stranger_gets_404_and_changes_nothing(client, name):
    owner = UserFactory()
    objects = owned_objects(owner)
    method, url, data = OWNED[name](objects)
    stranger = UserFactory()
    make_wallet(balance=1_000_00, user=stranger)
    client.force_login(stranger)

    assert getattr(client, method)(url, data).status_code == 404
    favourite = Favourite.objects.get(pk=objects.favourite.pk)  # not deleted
    assert (favourite.user, favourite.name) == (owner, "Дом")  # not renamed
    assert not Favourite.objects.filter(user=stranger).exists()  # not copied
    assert Card.objects.get(pk=objects.card.pk).status == "linked"  # not removed
    assert TrustedDevice.objects.filter(pk=objects.device.pk).exists()  # not forgotten
    assert Authenticator.objects.get(pk=objects.passkey.pk).data["name"] == "Ключ"


@pytest.mark.parametrize("name", sorted(OWNED))
def test_a_visitor_is_sent_to_sign_in(client, name):
    method, url, data = OWNED[name](owned_objects(UserFactory()))
    response = getattr(client, method)(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("who", ["wallet owner", "superuser without a second factor"])
def test_admin_urls_are_closed_to_everyone_but_staff_with_a_second_factor(who):
    user = UserFactory(is_staff=who != "wallet owner", is_superuser=who != "wallet owner")
    make_wallet(user=user)
    client = Client()
    client.force_login(user)
    login = reverse("admin:login")
    routes = [r for r in all_routes() if r.is_admin]
    assert len(routes) > 50  # every model's pages, found by the walk
    for route in routes:
        url = route.url()
        response = client.get(url)
        if route.name == "admin:login":
            expected = 200 if who == "wallet owner" else 302  # staff: to set up the code
            assert response.status_code == expected, url
            continue
        # Django's catch-all answers unknown admin URLs with 404 (and no page).
        assert response.status_code in (302, 404), (url, response.status_code)
        if response.status_code == 302:
            # (the admin's logout sends whoever may not use it to the admin's index)
            allowed = reverse("admin:index") if route.name == "admin:logout" else login
            assert response["Location"].startswith(allowed), (url, response["Location"])
