"""The gateway endpoint: who may call it, the callback convention, and no input ever
producing a 500 or a stack trace on the phone."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from billing.models import Payment
from tests.ussd.conftest import SECRET, ussd_wallet
from ussd import engine
from ussd.menu import Flow
from ussd.models import UssdSession

pytestmark = pytest.mark.django_db

URL = "/ussd/"


def form(**overrides):
    data = {
        "sessionId": "gw-1",
        "serviceCode": "*900#",
        "phoneNumber": "+996555000111",
        "networkCode": "99999",
        "text": "",
    }
    data.update(overrides)
    return data


def test_endpoint_is_mounted_at_ussd():
    assert reverse("ussd:gateway") == URL


def test_gateway_with_the_secret_in_a_header_gets_the_first_screen(client, catalogue):
    response = client.post(URL, form(), headers={"X-USSD-Secret": SECRET})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == (
        "CON Тилди тандаңыз / Выберите язык:\n1 Кыргызча\n2 Русский"
    )


def test_secret_as_a_parameter_works_too(client, catalogue):
    assert client.post(URL, form(secret=SECRET)).status_code == 200
    assert client.post(f"{URL}?secret={SECRET}", form(sessionId="gw-2")).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-USSD-Secret": "wrong"}, {"X-USSD-Secret": SECRET + "x"}, {"X-USSD-Secret": ""}],
)
def test_anyone_else_gets_403(client, catalogue, headers):
    response = client.post(URL, form(), headers=headers)
    assert response.status_code == 403
    assert not UssdSession.objects.exists()


def test_csrf_does_not_get_in_the_way(catalogue):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, form(), headers={"X-USSD-Secret": SECRET}).status_code == 200


def test_ip_allow_list(client, settings, catalogue):
    settings.USSD_ALLOWED_IPS = ["10.1.2.3", "192.168.50.0/24"]
    headers = {"X-USSD-Secret": SECRET}
    assert client.post(URL, form(), headers=headers, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.post(URL, form(), headers=headers, REMOTE_ADDR="192.168.50.77").status_code == 200
    assert client.post(URL, form(), headers=headers, REMOTE_ADDR="10.1.2.4").status_code == 403
    # The list alone is enough when no secret is configured.
    settings.USSD_SHARED_SECRET = ""
    assert client.post(URL, form(), REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.post(URL, form(), REMOTE_ADDR="127.0.0.1").status_code == 403


def test_nothing_configured_means_nobody_gets_in(client, settings, catalogue):
    settings.USSD_SHARED_SECRET = ""
    settings.USSD_ALLOWED_IPS = []
    assert client.post(URL, form(), headers={"X-USSD-Secret": ""}).status_code == 403


def test_get_is_not_the_convention(client, catalogue):
    response = client.get(URL, {"secret": SECRET})
    assert response.status_code == 405
    assert client.get(URL).status_code == 403


@pytest.mark.parametrize(
    "data",
    [
        form(sessionId=""),
        form(sessionId="a" * 101),
        form(sessionId="bad id\x00"),
        form(phoneNumber=""),
        form(phoneNumber="not a number"),
        form(phoneNumber="+79161234567"),
        form(phoneNumber="+996312123456"),  # a landline
        form(phoneNumber="+996555\x00123456"),
        form(text="1" * 5000),
        form(text="*" * 150),
        form(text="2*1*\x00\x01\x02*"),
        form(text="2*1*" + "Ж" * 400),
        form(text="2*1*Асель Токтогулова*" + "9" * 300),
        form(text="2*1*😀 🙂*21505199000123"),
        form(text="%s*%(x)s*{0}*{name}"),
        {"sessionId": "gw-x"},
        {},
    ],
)
def test_no_input_produces_a_500(client, catalogue, data):
    response = client.post(URL, data, headers={"X-USSD-Secret": SECRET})
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith(("CON ", "END "))
    assert len(body) <= 182
    assert "Traceback" not in body and "Error" not in body


def test_every_menu_input_is_answered_without_a_500(client, catalogue):
    # Every single input at every step of a registered wallet's menus.
    wallet = ussd_wallet(balance=100_00, pin="4826")
    prefixes = [
        "",
        "3",
        "3*3",
        "3*3*14",
        "3*3*14*14",
        "3*3*14*14*01503200010123",
        "3*3*14*14*01503200010123*10",
        "8",
        "8*1",
        "8*3",
        "8*3*4826",
        "8*3*4826*1357",
    ]
    odd = ["", "0", "00", "000", "#", "abc", "-1", "1.5", "1,5", "99999", " ", "４", "٣"]
    n = 0
    for prefix in prefixes:
        for value in odd:
            n += 1
            text = f"{prefix}*{value}" if prefix else value
            for step_text in _prefixes_of(text):
                response = client.post(
                    URL,
                    form(sessionId=f"every-{n}", phoneNumber=wallet.number, text=step_text),
                    headers={"X-USSD-Secret": SECRET},
                )
                assert response.status_code == 200
                assert len(response.content.decode()) <= 182
    assert Payment.objects.count() == 0


def _prefixes_of(text):
    parts = text.split("*")
    return ["*".join(parts[:i]) for i in range(0, len(parts) + 1)]


def test_a_crash_inside_answers_end_and_frees_the_session(client, catalogue, monkeypatch):
    wallet = ussd_wallet()
    headers = {"X-USSD-Secret": SECRET}
    client.post(URL, form(phoneNumber=wallet.number), headers=headers)

    def boom(self, value):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(Flow, "feed", boom)
    response = client.post(URL, form(phoneNumber=wallet.number, text="8"), headers=headers)
    assert response.status_code == 200
    assert response.content.decode() == "END Сервис временно недоступен. Попробуйте позже."
    monkeypatch.undo()
    session = UssdSession.objects.get()
    assert (session.lock_token, session.lock_until, session.consumed) == ("", None, 0)
    response = client.post(URL, form(phoneNumber=wallet.number, text="8"), headers=headers)
    assert response.content.decode().startswith("CON Баланс/Настройки")


def test_a_session_id_belongs_to_one_number(client, catalogue):
    headers = {"X-USSD-Secret": SECRET}
    a, b = ussd_wallet(), ussd_wallet()
    client.post(URL, form(phoneNumber=a.number), headers=headers)
    response = client.post(URL, form(phoneNumber=b.number, text="8"), headers=headers)
    assert response.content.decode() == "END Сервис временно недоступен. Попробуйте позже."
    assert UssdSession.objects.get().consumed == 0


def test_old_sessions_are_purged(client, catalogue):
    from django.utils import timezone

    UssdSession.objects.create(
        session_id="old", phone="+996555000111", expires_at=timezone.now() - engine.PURGE_AFTER * 2
    )
    client.post(URL, form(), headers={"X-USSD-Secret": SECRET})
    assert list(UssdSession.objects.values_list("session_id", flat=True)) == ["gw-1"]


def test_split_inputs():
    assert engine.split_inputs("") == []
    assert engine.split_inputs("3*3*14") == ["3", "3", "14"]
    assert engine.split_inputs(" 3 * 14 ") == ["3", "14"]
    assert engine.split_inputs("1**2") == ["1", "", "2"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twin_requests_at_once_pay_once():
    """The gateway sends the PIN request twice at the same moment: one payment."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    from providers import demo
    from providers.models import Category, Provider
    from wallets.models import Account

    demo.load(Category, Provider, Account)
    wallet = ussd_wallet(balance=100_00, pin="4826")
    inputs = ["3", "3", "14", "14", "01503200010123", "10"]
    engine.handle(session_id="twin", phone=wallet.number, text="")
    for i in range(1, len(inputs) + 1):
        engine.handle(session_id="twin", phone=wallet.number, text="*".join(inputs[:i]))
    barrier = threading.Barrier(4)
    answers = []

    def send():
        try:
            barrier.wait()
            answers.append(
                engine.handle(
                    session_id="twin", phone=wallet.number, text="*".join([*inputs, "4826"])
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    payment = Payment.objects.get()
    assert len(set(answers)) == 1
    assert answers[0].startswith("END Платеж принят.")
    wallet.account.refresh_from_db()
    assert wallet.account.balance == 90_00
    assert payment.channel == "ussd"


def test_ip_allow_list_behind_the_proxy(client, settings, catalogue):
    """Behind nginx every request comes from 127.0.0.1; the gateway is the hop nginx adds."""
    settings.USSD_SHARED_SECRET = ""
    settings.USSD_ALLOWED_IPS = ["10.1.2.3"]
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    via = {"REMOTE_ADDR": "127.0.0.1"}
    ok = client.post(URL, form(), headers={"X-Forwarded-For": "10.1.2.3"}, **via)
    assert ok.status_code == 200
    # A client cannot claim the address: nginx appends the real one, the last hop counts.
    forged = client.post(URL, form(), headers={"X-Forwarded-For": "10.1.2.3, 10.9.9.9"}, **via)
    assert forged.status_code == 403
    assert client.post(URL, form(), **via).status_code == 403
