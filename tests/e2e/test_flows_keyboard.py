"""Keyboard only: sign in and pay with Tab, Enter and Space (and typing), focus always visible."""

import re

import pytest

from billing.models import Favourite, Payment
from tests.e2e.conftest import DESKTOP
from tests.e2e.pages import CAPTIONS, INN, words
from tests.factories import PASSWORD, make_wallet

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalogue")]

# The focused element's name as a person hears it: its label, else its text or value.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return {name: "", outline: "none"};
  const label = e.labels && e.labels.length ? e.labels[0].innerText : "";
  const name = e.getAttribute("aria-label") || label || e.innerText || e.value || "";
  return {name: name.replace(/\\s+/g, " ").trim().replace(/:$/, ""),
          outline: getComputedStyle(e).outlineStyle};
}"""


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def tab_to(page, name, *, limit=40):
    """Press Tab until the focus is on `name` (a string, or a pattern it starts with)."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        seen.append(focused["name"])
        if (
            focused["name"] == name
            if isinstance(name, str)
            else re.match(name, focused["name"]) is not None
        ):
            assert focused["outline"] != "none", f"the focus on {name!r} is not visible"
            return
    raise AssertionError(f"Tab never reached {name!r}; it went through {seen}")


def press(page, key):
    """A key that follows a link or submits a form: wait for the next page."""
    with page.expect_navigation():
        page.keyboard.press(key)


def test_sign_in_and_pay_with_the_keyboard_alone(new_page, live_server):
    t = CAPTIONS["ru"]
    wallet = make_wallet(balance=1_000_00)
    page = new_page(size=DESKTOP)
    page.goto(live_server.url + "/accounts/login/")

    tab_to(page, t["wallet_number"])
    page.keyboard.type(wallet.number.removeprefix("+996"))
    press(page, "Enter")
    tab_to(page, t["password"])
    page.keyboard.type(PASSWORD)
    press(page, "Enter")
    assert words(page.get_by_role("heading", level=1).inner_text()).startswith("Кошелёк")

    tab_to(page, t["services"])
    press(page, "Enter")
    tab_to(page, re.compile(re.escape(t["other"])))
    press(page, "Enter")
    tab_to(page, "DosTek group")
    press(page, "Enter")

    tab_to(page, t["inn"])
    page.keyboard.type(INN)
    tab_to(page, t["amount"])
    page.keyboard.type("99,90")
    tab_to(page, t["next"])
    press(page, " ")
    assert words(page.get_by_role("heading", level=2).inner_text()) == t["check_h"]

    tab_to(page, t["back"])
    press(page, "Enter")
    assert page.get_by_label(t["inn"]).input_value() == INN
    tab_to(page, t["next"])
    press(page, "Enter")
    tab_to(page, t["pay"])
    press(page, " ")

    assert words(page.get_by_role("heading", level=1).inner_text()) == t["receipt_h"]
    payment = Payment.objects.get()
    assert (payment.status, payment.account, payment.amount) == ("succeeded", INN, 99_90)
    assert payment.display_code in words(page.get_by_role("main").inner_text())

    # Save it to the favourites, still without a mouse.
    tab_to(page, t["template_name"])
    page.keyboard.press("Control+A")
    page.keyboard.type(t["template"])
    press(page, "Enter")
    assert words(page.get_by_role("status").inner_text()) == t["saved"]
    assert Favourite.objects.get().name == t["template"]
