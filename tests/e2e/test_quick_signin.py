"""Quick sign-in on a trusted device in a real browser (Chromium's WebCrypto and IndexedDB on
http://127.0.0.1, a secure context), in ru and ky at 360 px: sign in with the password, turn
on «Войти по ПИН-коду на этом устройстве», sign out, sign back in with the PIN in the same
browser context; five wrong PINs forget the device. And a passkey, with Chromium's virtual
authenticator (CDP WebAuthn): added on «Безопасность», then «Войти с ключом доступа».
Every page: axe-core, no sideways scrolling, a clean console under the CSP, the page weight.
"""

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.hashers import make_password

from tests.e2e.conftest import PHONE
from tests.e2e.pages import CAPTIONS, Checker, words
from tests.factories import PASSWORD, make_wallet
from wallets.models import TrustedDevice, Wallet

pytestmark = [pytest.mark.django_db(transaction=True)]

PIN = "4826"
TEXT = {
    "ru": {
        "security": "Безопасность",
        "enable": "Войти по ПИН-коду на этом устройстве",
        "enabled": "Вход по ПИН-коду на этом устройстве включён",
        "this_device": "(это устройство)",
        "pin": "ПИН-код",
        "pin_sign_in": "Войти по ПИН-коду",
        "wrong": "Неверный ПИН-код. Осталось попыток на этом устройстве: 4.",
        "locked": "заблокирован до",
        "forgotten": "5 раз неверный ПИН-код: устройство забыто.",
        "passkey_add": "Добавить ключ доступа",
        "passkey_added": "Ключ доступа добавлен.",
        "passkey_sign_in": "Войти с ключом доступа",
        "confirm_h": "Подтвердите, что это вы",
        "confirm": "Подтвердить",
    },
    "ky": {
        "security": "Коопсуздук",
        "enable": "Бул түзмөктө ПИН-код менен кирүү",
        "enabled": "Бул түзмөктө ПИН-код менен кирүү күйгүзүлдү",
        "this_device": "(бул түзмөк)",
        "pin": "ПИН-код",
        "pin_sign_in": "ПИН-код менен кирүү",
        "wrong": "ПИН-код туура эмес. Бул түзмөктө калган аракет: 4.",
        "locked": "чейин бөгөттөлдү",
        "forgotten": "ПИН-код 5 жолу туура эмес терилди: түзмөк унутулду.",
        "passkey_add": "Кирүү ачкычын кошуу",
        "passkey_added": "Кирүү ачкычы кошулду.",
        "passkey_sign_in": "Кирүү ачкычы менен кирүү",
        "confirm_h": "Бул сиз экениңизди ырастаңыз",
        "confirm": "Ырастоо",
    },
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def owner(lang):
    wallet = make_wallet(balance=100_00)
    user = wallet.user
    user.language = lang
    user.save(update_fields=["language"])
    Wallet.objects.filter(pk=wallet.pk).update(pin_hash=make_password(PIN))
    return wallet


def sign_in_with_password(page, check, live_server, wallet, t):
    page.net.reset()
    page.goto(live_server.url + "/accounts/login/")
    check("sign-in")
    page.get_by_label(t["wallet_number"]).fill(wallet.number)
    page.get_by_role("button", name=t["sign_in"], exact=True).click()
    page.get_by_label(t["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t["sign_in"], exact=True).click()
    page.wait_for_url(re.compile(r"/cabinet/$"))


def open_language(page, live_server, lang, t):
    page.goto(live_server.url + "/accounts/login/")
    if page.locator("html").get_attribute("lang") != lang:
        page.get_by_role("button", name=t["switch_to"]).click()


def try_pin(page, q, pin):
    page.net.reset()  # the weight of the page the answer lands on
    page.get_by_label(q["pin"], exact=True).fill(pin)
    # The script asks for a challenge, signs it, then sends the form: wait for that page.
    with page.expect_navigation():
        page.get_by_role("button", name=q["pin_sign_in"], exact=True).click()
    page.wait_for_load_state("load")


@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_pin_on_a_trusted_device(new_page, live_server, lang):
    t, q = CAPTIONS[lang], TEXT[lang]
    wallet = owner(lang)
    page = new_page(size=PHONE, lang=lang)
    check = Checker(page, base_url=live_server.url, lang=lang, prefix=f"pin-{lang}")
    open_language(page, live_server, lang, t)
    # No device key yet: the sign-in page offers only the number.
    assert page.locator("#pin-signin").is_hidden()

    sign_in_with_password(page, check, live_server, wallet, t)
    check("cabinet")
    page.get_by_role("link", name=q["security"]).click()
    check("security")
    page.get_by_role("button", name=q["enable"]).click()
    page.wait_for_function("() => document.querySelector('.this-device:not([hidden])')")
    main = words(page.get_by_role("main").inner_text())
    assert q["enabled"] in main and q["this_device"] in main
    assert page.locator("#device-add").is_hidden()  # already on for this device
    check("security-device-trusted")
    device = TrustedDevice.objects.get(user=wallet.user)
    # The key stays in the browser: the server has only the public half.
    kept = page.evaluate(
        """() => new Promise(resolve => {
          const open = indexedDB.open("kapchyk", 1);
          open.onsuccess = () => {
            const get = open.result.transaction("device").objectStore("device").get("this");
            get.onsuccess = () => resolve({id: get.result.id, type: get.result.key.type,
                                            extractable: get.result.key.extractable});
          };
        })"""
    )
    assert kept == {"id": device.public_id, "type": "private", "extractable": False}

    # Sign out; back in with the PIN in the same browser context.
    page.get_by_role("button", name=t["sign_out"], exact=True).click()
    page.wait_for_selector("#pin-signin:not([hidden])")
    assert "***" in page.locator("#pin-number").inner_text()
    check("signed-out-pin-offered")
    try_pin(page, q, PIN)
    assert check.heading() == t["wallet_h"].format(number=str(wallet))
    check("cabinet-by-pin")

    # Five wrong PINs forget the device (after three the wallet's PIN locks for 30 minutes).
    page.get_by_role("button", name=t["sign_out"], exact=True).click()
    page.wait_for_selector("#pin-signin:not([hidden])")
    try_pin(page, q, "0000")
    assert q["wrong"] in words(page.get_by_role("main").inner_text())
    check("wrong-pin")
    for _ in range(2):
        page.wait_for_selector("#pin-signin:not([hidden])")
        try_pin(page, q, "0000")
    assert q["locked"] in words(page.get_by_role("main").inner_text())
    check("pin-locked")
    Wallet.objects.filter(pk=wallet.pk).update(pin_locked_until=None)  # 30 minutes later
    for _ in range(2):
        page.wait_for_selector("#pin-signin:not([hidden])")
        try_pin(page, q, "1111")
    assert q["forgotten"] in words(page.get_by_role("main").inner_text())
    assert not TrustedDevice.objects.filter(user=wallet.user).exists()
    check("device-forgotten")
    # The PIN option is gone, also after a reload: the key left IndexedDB.
    page.net.reset()
    page.reload()
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert page.locator("#pin-signin").is_hidden()
    check("sign-in-without-pin")
    check.report()


@dataclass
class Local:
    url: str


@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_passkey_added_and_signed_in_with(new_page, live_server, lang):
    t, q = CAPTIONS[lang], TEXT[lang]
    # WebAuthn takes a domain, not an address, as the relying party: localhost (a secure context).
    server = Local(live_server.url.replace("127.0.0.1", "localhost"))
    wallet = owner(lang)
    page = new_page(size=PHONE, lang=lang)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    check = Checker(page, base_url=server.url, lang=lang, prefix=f"passkey-{lang}")
    open_language(page, server, lang, t)
    sign_in_with_password(page, check, server, wallet, t)
    page.goto(server.url + "/cabinet/security/")
    page.net.reset()
    page.get_by_role("link", name=q["passkey_add"]).click()
    # Adding a passkey asks for the password again (allauth's reauthentication).
    assert check.heading() == q["confirm_h"]
    check("confirm-password")
    page.get_by_label(t["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=q["confirm"]).click()
    assert check.heading() == q["passkey_add"]
    check("passkey-add")
    page.get_by_role("button", name=q["passkey_add"]).click()
    page.wait_for_url(re.compile(r"/cabinet/security/$"))
    assert q["passkey_added"] in words(page.get_by_role("main").inner_text())
    check("passkey-added")

    page.get_by_role("button", name=t["sign_out"], exact=True).click()
    page.wait_for_selector("#passkey-signin:not([hidden])")
    check("signed-out-passkey-offered")
    page.get_by_role("button", name=q["passkey_sign_in"]).click()
    page.wait_for_url(re.compile(r"/cabinet/$"))
    assert check.heading() == t["wallet_h"].format(number=str(wallet))
    check("cabinet-by-passkey")
    check.report()
