"""Flow A of ../shared/flows.md in a real browser, as a person walks it, in ru and in ky, on a
360×640 phone and a 1280×800 desktop: number → «Войти» → registration with the offer → SMS
code → cabinet → «Услуги» → «Другие» → «DosTek group» → INN and amount → «Далее» → «Назад»
(values kept) → «Далее» → «Оплатить» → receipt; favourites; history; language switch; sign
out and in again. Every page: screenshot, axe-core 0 violations, no sideways scrolling at
360 px, a clean console, ≤ 30 KB in ≤ 8 requests, no external host.
"""

import re

import pytest
from django.utils import timezone

from billing.models import Payment
from providers.models import Provider
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.pages import CAPTIONS, INN, Checker, assert_error_next_to, starts, words
from wallets import ledger, services
from wallets.models import Offer, SmsMessage, User, Wallet

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("catalogue")]

NUMBER = "+996700555111"  # an O! number nobody has registered
TYPED = "0700 555 111"
SHOWN = "+996 700 555 111"
PASSWORD = "kapchyk2026"
# A cash-in at a terminal (the edge of the world): its long memo must not widen the page.
CASHIN_MEMO = (
    "Пополнение наличными: терминал QIWI № 0045210098877665544, ТЦ «Бишкек Парк», "
    "ул. Киевская 148, Бишкек"
)

CACHED_PATHS = """async () => {
  const paths = [];
  for (const key of await caches.keys()) {
    for (const request of await (await caches.open(key)).keys()) {
      paths.push(new URL(request.url).pathname);
    }
  }
  return paths;
}"""


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def last_code(phone):
    sms = SmsMessage.objects.filter(phone=phone).order_by("-id").first()
    return re.search(r"\b(\d{6})\b", sms.text).group(1)


@pytest.mark.parametrize(
    ("lang", "size"),
    [("ru", PHONE), ("ru", DESKTOP), ("ky", PHONE), ("ky", DESKTOP)],
    ids=["ru-phone", "ru-desktop", "ky-phone", "ky-desktop"],
)
def test_register_pay_favourite_history(new_page, live_server, lang, size):
    t = CAPTIONS[lang]
    other = "ky" if lang == "ru" else "ru"
    # The browser asks for the other language first: the person switches on the first page.
    page = new_page(size=size, lang=other)
    check = Checker(page, base_url=live_server.url, lang=lang, prefix=f"flow-{lang}")
    main = page.get_by_role("main")

    # A1: the number and «Войти».
    page.goto(live_server.url + "/")
    check("sign-in-other-language", lang=other)
    page.get_by_role("button", name=t["switch_to"]).click()
    assert check.heading() == t["sign_in_h"]
    check("sign-in")
    page.get_by_label(t["wallet_number"]).fill(TYPED)
    page.get_by_role("button", name=t["sign_in"], exact=True).click()

    # A2: registration with the offer checkbox, then the SMS code.
    assert check.heading() == t["registration_h"].format(number=SHOWN)
    check("registration")
    page.get_by_label(t["email"], exact=True).fill("aigul@example.kg")
    page.get_by_label(t["password"], exact=True).fill(PASSWORD)
    # A mistyped repeat: the message stands by its field and is read with it.
    page.get_by_label(t["repeat_password"]).fill(PASSWORD + "x")
    page.get_by_label(t["offer"]).check()
    page.get_by_role("button", name=t["register"]).click()
    assert_error_next_to(page.get_by_label(t["repeat_password"]), t["mismatch"])
    check("registration-error")
    page.get_by_label(t["password"], exact=True).fill(PASSWORD)
    page.get_by_label(t["repeat_password"]).fill(PASSWORD)
    page.get_by_label(t["offer"]).check()
    page.get_by_role("button", name=t["register"]).click()

    assert check.heading() == t["confirm_number_h"]
    check("sms-code")
    page.get_by_label(t["sms_code"]).fill(last_code(NUMBER))
    page.get_by_role("button", name=t["confirm"], exact=True).click()

    assert check.heading() == t["wallet_h"].format(number=SHOWN)
    user = User.objects.get(phone=NUMBER)
    assert user.phone_verified and user.offer_version == Offer.objects.get()
    assert user.offer_accepted_at is not None
    assert words(page.locator(".balance").inner_text()) == f"0,00 {t['som']}"
    check("cabinet-new")
    # The wallet is topped up with cash at a terminal.
    wallet = Wallet.objects.get(user=user)
    services.cashin_create(wallet=wallet, amount=5_000_00, reason=CASHIN_MEMO, created_by=None)
    page.reload()
    assert words(page.locator(".balance").inner_text()) == f"5 000,00 {t['som']}"
    check("cabinet")

    # A3: «Услуги» → «Другие» → «DosTek group» → INN and amount → «Далее».
    main.get_by_role("link", name=t["pay"], exact=True).click()  # the quick action «Оплатить»
    assert check.heading() == t["services"]
    check("services")
    page.get_by_role("link", name=starts(t["other"])).click()
    assert check.heading() == t["other"]
    check("category-other")
    page.get_by_role("link", name="DosTek group", exact=True).click()
    assert check.heading() == "DosTek group"
    check("pay-form")
    page.get_by_label(t["inn"]).fill(INN)
    page.get_by_label(t["amount"]).fill("сто")
    page.get_by_role("button", name=t["next"]).click()
    assert_error_next_to(page.get_by_label(t["amount"]), t["amount_error"])
    assert page.get_by_label(t["inn"]).input_value() == INN
    check("pay-form-error")
    page.get_by_label(t["amount"]).fill("150,50")
    page.get_by_role("button", name=t["next"]).click()

    # A4: check; «Назад» keeps what was typed; «Далее» again; «Оплатить».
    assert words(page.get_by_role("heading", level=2).inner_text()) == t["check_h"]
    confirm = words(main.locator("dl").inner_text())
    assert INN in confirm and f"150,50 {t['som']}" in confirm and f"4 849,50 {t['som']}" in confirm
    check("confirm")
    page.get_by_role("button", name=t["back"]).click()
    assert page.get_by_label(t["inn"]).input_value() == INN
    assert page.get_by_label(t["amount"]).input_value() in ("150,50", "150.50")
    check("pay-form-back")
    page.get_by_role("button", name=t["next"]).click()
    assert words(page.get_by_role("heading", level=2).inner_text()) == t["check_h"]
    assert not Payment.objects.exists()
    check("confirm-again")
    provider_before = ledger.balance_of(Provider.objects.get(slug="dostek").account)
    page.get_by_role("button", name=t["pay"], exact=True).click()

    # A5: the receipt with the payment code; the SMS; the money at the provider.
    assert check.heading() == t["receipt_h"]
    payment = Payment.objects.get()
    assert (payment.status, payment.account, payment.amount, payment.total) == (
        "succeeded",
        INN,
        150_50,
        150_50,
    )
    receipt = words(main.locator("dl").first.inner_text())
    assert f"{t['payment_code']} {payment.display_code}" in receipt
    assert words(main.get_by_text(t["done"]).inner_text()) == t["done"]
    assert payment.code in SmsMessage.objects.filter(phone=NUMBER).order_by("-id")[0].text.replace(
        " ", ""
    )
    dostek = payment.provider
    assert ledger.balance_of(dostek.account) - provider_before == 150_50
    check("receipt")

    # Favourites: save the payment as a template, then repeat it from the list.
    assert page.get_by_label(t["template_name"]).input_value() == f"DosTek group {INN}"
    page.get_by_label(t["template_name"]).fill(t["template"])
    page.get_by_role("button", name=t["save"], exact=True).click()
    assert check.heading() == t["favourites_h"]
    assert words(page.get_by_role("status").inner_text()) == t["saved"]
    check("favourites")
    main.get_by_role("link", name=t["rename"]).click()
    assert check.heading() == t["rename_h"]
    assert page.get_by_label(t["template_name"]).input_value() == t["template"]
    check("favourite-rename")
    page.get_by_label(t["template_name"]).fill(t["template_renamed"])
    page.get_by_role("button", name=t["save"], exact=True).click()
    assert words(page.get_by_role("status").inner_text()) == t["renamed"]
    check("favourites-renamed")
    page.get_by_role("link", name=starts(t["template_renamed"])).click()
    assert check.heading() == "DosTek group"
    assert page.get_by_label(t["inn"]).input_value() == INN
    check("pay-form-from-template")

    # The cabinet: balance, quick actions, the recent operations (with the long cash-in
    # memo), the template.
    page.get_by_role("link", name="Капчык", exact=True).click()  # the brand, to the cabinet
    assert check.heading() == t["wallet_h"].format(number=SHOWN)
    assert words(page.locator(".balance").inner_text()) == f"4 849,50 {t['som']}"
    assert main.get_by_role("link", name=t["template_renamed"]).is_visible()
    recent = words(main.locator(".ops").inner_text())
    assert CASHIN_MEMO in recent and "DosTek group" in recent
    check("cabinet-after-payment")
    main.get_by_role("link", name=t["top_up"], exact=True).click()
    assert check.heading() == t["topup_h"]
    assert "KICB" in words(main.inner_text())
    check("topup-ways")
    page.go_back()

    # The one history: every operation, the receipt from there.
    main.get_by_role("link", name=t["all_operations"]).click()
    assert check.heading() == t["history"]
    rows = words(main.locator(".ops").inner_text())
    assert "DosTek group" in rows and INN in rows and CASHIN_MEMO in rows
    assert "-150,50" in rows.replace("−", "-")
    assert timezone.localtime(payment.created_at).strftime("%d.%m.%Y %H:%M") in rows
    check("history")
    main.get_by_role("link", name=re.compile("^DosTek group")).click()
    assert check.heading() == t["receipt_h"]
    check("receipt-from-history")
    page.go_back()
    check("history-back")
    page.get_by_role("navigation", name=re.compile(".")).first.get_by_role(
        "link", name=t["history"], exact=True
    ).click()
    assert check.heading() == t["history"]

    # Language switch on any page keeps the page.
    url = page.url
    page.get_by_role("button", name=t["other_language"]).click()
    assert page.url == url
    assert check.heading() == CAPTIONS[other]["history"]
    check("history-other-language", lang=other)
    page.get_by_role("button", name=t["switch_to"]).click()
    assert check.heading() == t["history"]
    check("history-language-back")

    # Sign out; sign in again with the number and the password.
    page.get_by_role("button", name=t["sign_out"]).click()
    assert check.heading() == t["sign_in_h"]
    check("signed-out")
    page.get_by_label(t["wallet_number"]).fill(TYPED)
    page.get_by_role("button", name=t["sign_in"], exact=True).click()
    check("password")
    page.get_by_label(t["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t["sign_in"], exact=True).click()
    assert check.heading() == t["wallet_h"].format(number=SHOWN)
    check("cabinet-signed-in")
    check.report()

    # The installed app's service worker kept static files only: no balance, no receipt.
    cached = page.evaluate(CACHED_PATHS)
    assert cached and all(path.startswith("/static/") for path in cached), cached
