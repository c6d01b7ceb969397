import re

import pytest
from django.urls import reverse

from providers import demo
from providers.models import Category, Provider
from tests.factories import UserFactory, make_wallet
from ussd import services
from wallets.models import Account, Offer, SmsMessage, Wallet

SECRET = "test-ussd-secret"
LIMIT = 182


@pytest.fixture(autouse=True)
def _ussd_settings(settings):
    settings.USSD_SHARED_SECRET = SECRET
    settings.USSD_ALLOWED_IPS = []
    settings.USSD_OFFER_URL = "kapchyk.kg/offer"
    # PINs are hashed with the real hasher in test_pin.py; elsewhere a fast one keeps the
    # suite quick (a 4-digit PIN is protected by the lock, not by the hash's cost).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catalogue(db):
    """The demo catalogue (as `manage.py demo` loads it) and the public offer."""
    demo.load(Category, Provider, Account)
    if Offer.objects.current() is None:
        Offer.objects.create(
            version=1, title_ky="Оферта", title_ru="Оферта", body_ky=".", body_ru="."
        )
    return {
        "other": Category.objects.get(ussd_number=14),
        "dostek": Provider.objects.get(slug="dostek"),
        "hoster": Provider.objects.get(slug="hoster"),
    }


class Phone:
    """A handset dialling *900# through the gateway endpoint, one input at a time."""

    def __init__(self, client, number, session_id="s-1", on_commit=None):
        self.client = client
        self.on_commit = on_commit
        self.number = number
        self.session_id = session_id
        self.inputs: list[str] = []
        self.screens: list[str] = []

    def post(self, text, **extra):
        # Each request is its own transaction in production: run its on_commit callbacks
        # (the SMS) when it ends, as the commit would.
        with self.on_commit(execute=True):
            response = self._post(text, **extra)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain")
        body = response.content.decode()
        assert body.startswith(("CON ", "END ")), body
        assert len(body) <= LIMIT, (len(body), body)
        self.screens.append(body)
        return body

    def _post(self, text, **extra):
        return self.client.post(
            reverse("ussd:gateway"),
            {
                "sessionId": self.session_id,
                "serviceCode": "*900#",
                "phoneNumber": self.number,
                "networkCode": "99999",
                "text": text,
            },
            headers={"X-USSD-Secret": SECRET},
            **extra,
        )

    def dial(self, session_id=None):
        if session_id:
            self.session_id = session_id
        self.inputs = []
        return self.post("")

    def send(self, *values):
        body = None
        for value in values:
            self.inputs.append(value)
            body = self.post("*".join(self.inputs))
        return body

    def again(self):
        """The gateway repeats the last request."""
        return self.post("*".join(self.inputs))


@pytest.fixture
def phone(client, db, django_capture_on_commit_callbacks):
    def make(number, session_id="s-1"):
        return Phone(client, number, session_id, on_commit=django_capture_on_commit_callbacks)

    return make


def sms_to(number):
    return list(
        SmsMessage.objects.filter(phone=number).order_by("id").values_list("text", flat=True)
    )


def pin_from_sms(text):
    return re.search(r"\b(\d{4})\b", text).group(1)


def ussd_wallet(*, balance=0, language="ru", pin="4826", phone=None):
    """A registered wallet with a known PIN."""
    user = UserFactory(language=language, **({"phone": phone} if phone else {}))
    wallet = make_wallet(balance=balance, user=user)
    Wallet.objects.filter(pk=wallet.pk).update(pin_hash=services.pin_hash_new(pin))
    wallet.refresh_from_db()
    return wallet
