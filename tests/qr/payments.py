"""Helpers of the QR payment tests: a merchant with a cashier, codes, and the page steps."""

import html
import re

from qr import elqr, services
from tests.billing.helpers import text
from tests.factories import make_wallet


def merchant(*, name_ru='КАФЕ "КЕНТ"', name_ky='КАФЕ "КЕНТ" ky', cashier=None, **extra):
    cashier = cashier or make_wallet()
    return services.merchant_create(
        name_ru=name_ru, name_ky=name_ky, mcc=extra.get("mcc", "5812"), cashiers=[cashier]
    )


def foreign_link(*, name="KIRILL B.", type="static", amount=None):
    code = elqr.ElqrCode(
        type=type, provider_id="mbank.kg", recipient_id="996700111222", name=name, amount=amount
    )
    return elqr.build(code, router="https://app.mbank.kg/qr/")


def shown(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(text(response))


def hidden(response, name):
    match = re.search(rf'name="{name}" value="([^"]*)"', response.content.decode())
    assert match, f"no hidden {name} in the page"
    return html.unescape(match.group(1))


def scan(client, link):
    return client.post("/qr/", {"link": link})


def next_step(client, link, amount=""):
    return client.post("/qr/pay/", {"link": link, "amount": amount})


def pay(client, confirm_page, action="pay", **override):
    data = {
        "link": hidden(confirm_page, "link"),
        "amount": hidden(confirm_page, "amount"),
        "token": hidden(confirm_page, "token"),
        "action": action,
    }
    data.update(override)
    return client.post("/qr/confirm/", data)
