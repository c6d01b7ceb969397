"""Without JavaScript (Chromium with JavaScript off): sign-in and the payment flow still work."""

import pytest

from billing.models import Payment
from tests.e2e.conftest import PHONE
from tests.e2e.pages import CAPTIONS, INN, Checker, starts, words
from tests.factories import PASSWORD, make_wallet
from wallets import ledger

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalogue")]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_sign_in_and_pay_without_javascript(new_page, live_server):
    t = CAPTIONS["ru"]
    wallet = make_wallet(balance=1_000_00)
    page = new_page(size=PHONE, javascript=False)
    # axe-core needs scripts: the pages' accessibility is checked by the walks with them on.
    check = Checker(page, base_url=live_server.url, lang="ru", prefix="nojs", accessible=False)
    main = page.get_by_role("main")

    page.goto(live_server.url + "/")
    check("sign-in")
    page.get_by_label(t["wallet_number"]).fill(wallet.number.removeprefix("+996"))
    page.get_by_role("button", name=t["sign_in"], exact=True).click()
    check("password")
    page.get_by_label(t["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t["sign_in"], exact=True).click()
    assert words(page.locator(".balance").inner_text()) == "1 000,00 сом"
    check("cabinet")

    main.get_by_role("link", name=t["pay"], exact=True).click()  # the quick action «Оплатить»
    check("services")
    page.get_by_role("link", name=starts(t["other"])).click()
    check("category-other")
    page.get_by_role("link", name="DosTek group", exact=True).click()
    check("pay-form")
    page.get_by_label(t["inn"]).fill(INN)
    page.get_by_label(t["amount"]).fill("250")
    page.get_by_role("button", name=t["next"]).click()
    assert words(page.get_by_role("heading", level=2).inner_text()) == t["check_h"]
    check("confirm")
    page.get_by_role("button", name=t["back"]).click()
    assert page.get_by_label(t["inn"]).input_value() == INN
    check("pay-form-back")
    page.get_by_role("button", name=t["next"]).click()
    check("confirm-again")
    page.get_by_role("button", name=t["pay"], exact=True).click()

    assert words(page.get_by_role("heading", level=1).inner_text()) == t["receipt_h"]
    payment = Payment.objects.get()
    assert (payment.status, payment.account, payment.amount) == ("succeeded", INN, 250_00)
    assert payment.display_code in words(main.inner_text())
    # The print button needs a script: without one it stays hidden.
    assert not page.get_by_role("button", name="Печать").is_visible()
    check("receipt")
    check.report()
    assert ledger.balance_of(wallet.account) == 750_00
