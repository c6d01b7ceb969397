"""What every page of the flows must pass, and the captions the flows click, in ru and ky."""

import re

from tests.e2e.conftest import (
    assert_accessible,
    assert_clean_console,
    assert_no_horizontal_scroll,
    shot,
)

MAX_BYTES = 30 * 1024
MAX_REQUESTS = 8
# The camera's fallback QR decoder (jsQR): fetched by the scan page only when the camera is
# asked for in a browser without BarcodeDetector; the one file exempt from the budget.
DECODER = "/static/js/vendor/jsQR."
INN = "01234567890123"

# The captions a person reads and clicks (seeds' wording in ru; the ky catalogue).
CAPTIONS = {
    "ru": {
        "switch_to": "Русский",
        "other_language": "Кыргызча",
        "sign_in_h": "Вход в кошелёк",
        "wallet_number": "Номер кошелька",
        "sign_in": "Войти",
        "registration_h": "Регистрация номера {number}",
        "email": "Email",
        "password": "Пароль",
        "repeat_password": "Повторите пароль",
        "offer": "Я соглашаюсь с условиями публичной оферты",
        "mismatch": "Пароли не совпадают.",
        "register": "Зарегистрироваться",
        "confirm_number_h": "Подтверждение номера",
        "sms_code": "Код из SMS",
        "confirm": "Подтвердить",
        "wallet_h": "Кошелёк {number}",
        "balance": "Баланс",
        "services": "Услуги",
        "other": "Другие",
        "inn": "ИНН компании",
        "amount": "Сумма, сом",
        "amount_error": "Введите сумму в сомах цифрами, например 150 или 150,50.",
        "next": "Далее",
        "check_h": "Проверьте платёж",
        "back": "Назад",
        "pay": "Оплатить",
        "receipt_h": "Квитанция об оплате",
        "done": "Платёж проведён.",
        "payment_code": "Код платежа",
        "template_name": "Название шаблона",
        "save": "Сохранить",
        "saved": "Сохранено в «Избранное».",
        "favourites_h": "Избранное",
        "template": "Офис DosTek",
        "rename": "Переименовать",
        "rename_h": "Переименовать шаблон",
        "renamed": "Шаблон переименован.",
        "template_renamed": "Офис DosTek, аренда",
        "all_operations": "Все операции",
        "top_up": "Пополнить",
        "topup_h": "Пополнение кошелька",
        "history": "История",
        "mini_statement": "Мини-выписка",
        "sign_out": "Выйти",
        "som": "сом",
    },
    "ky": {
        "switch_to": "Кыргызча",
        "other_language": "Русский",
        "sign_in_h": "Капчыкка кирүү",
        "wallet_number": "Капчыктын номери",
        "sign_in": "Кирүү",
        "registration_h": "{number} номерин каттоо",
        "email": "Электрондук почта",
        "password": "Сырсөз",
        "repeat_password": "Сырсөздү кайталаңыз",
        "offer": "Ачык офертанын шарттарына макулмун",
        "mismatch": "Сырсөздөр дал келбейт.",
        "register": "Катталуу",
        "confirm_number_h": "Номерди ырастоо",
        "sms_code": "SMS'теги код",
        "confirm": "Ырастоо",
        "wallet_h": "Капчык {number}",
        "balance": "Баланс",
        "services": "Кызматтар",
        "other": "Башкалар",
        "inn": "Компаниянын ИННи",
        "amount": "Сумма, сом",
        "amount_error": "Сумманы сом менен сандар аркылуу киргизиңиз, мисалы 150 же 150,50.",
        "next": "Андан ары",
        "check_h": "Төлөмдү текшериңиз",
        "back": "Артка",
        "pay": "Төлөө",
        "receipt_h": "Төлөм квитанциясы",
        "done": "Төлөм ийгиликтүү жүргүзүлдү.",
        "payment_code": "Төлөм коду",
        "template_name": "Шаблондун аталышы",
        "save": "Сактоо",
        "saved": "«Тандалмаларга» сакталды.",
        "favourites_h": "Тандалмалар",
        "template": "Кеңсе DosTek",
        "rename": "Атын өзгөртүү",
        "rename_h": "Шаблондун атын өзгөртүү",
        "renamed": "Шаблондун аты өзгөртүлдү.",
        "template_renamed": "Кеңсе DosTek, ижара",
        "all_operations": "Бардык операциялар",
        "top_up": "Толуктоо",
        "topup_h": "Капчыкты толуктоо",
        "history": "Тарых",
        "mini_statement": "Мини-көчүрмө",
        "sign_out": "Чыгуу",
        "som": "сом",
    },
}


def words(text: str) -> str:
    """Text with every run of whitespace (no-break spaces too) as one space."""
    return " ".join(text.split())


def starts(caption: str) -> re.Pattern:
    """An accessible name that begins with `caption` (a tile also names its count)."""
    return re.compile("^" + re.escape(caption))


# Boxes whose text runs out of them (over a neighbour) without making the page scroll.
SPILLS = """() => [...document.querySelectorAll("body *")]
  .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1
          && getComputedStyle(e).overflowX === "visible"
          && !["INPUT", "SELECT", "TEXTAREA", "svg"].includes(e.tagName))
  .map(e => `${e.tagName.toLowerCase()}: ${e.innerText.slice(0, 40)}`)"""


def assert_nothing_spills(page):
    spills = page.evaluate(SPILLS)
    assert spills == [], f"text runs out of its box: {spills}"


class Checker:
    """Runs the checks of issue 6 on every page a flow reaches and records its weight."""

    def __init__(self, page, *, base_url, lang, prefix, accessible=True):
        self.page = page
        self.base_url = base_url
        self.lang = lang
        self.prefix = prefix
        self.accessible = accessible
        self.count = 0
        self.weights = []

    def __call__(self, name, *, lang=None, exempt=()):
        """`exempt`: parts of URLs left out of the weight (only ever DECODER, after a scan)."""
        assert set(exempt) <= {DECODER}, exempt
        page = self.page
        page.wait_for_load_state("load")
        lang = lang or self.lang
        assert page.locator("html").get_attribute("lang") == lang, (name, page.url)
        self.count += 1
        shot(page, f"{self.prefix}-{self.count:02d}-{name}")
        if page.viewport_size["width"] <= 360:
            assert_no_horizontal_scroll(page)
            assert_nothing_spills(page)
        if self.accessible:
            assert_accessible(page)
        assert_clean_console(page)
        _, size, urls = page.net.summary(exclude=("/static/logos/", *exempt))
        # Chromium's own images (a date field's calendar icon) come as data: URLs, not requests.
        urls = [url for url in urls if not url.startswith("data:")]
        requests = len(urls)
        assert all(url.startswith(self.base_url) for url in urls), (name, urls)
        assert requests <= MAX_REQUESTS, (name, urls)
        assert size <= MAX_BYTES, (name, size, urls)
        self.weights.append((name, requests, size))
        page.net.reset()

    def report(self):
        """The weights, for `pytest -s` (and shown with a failure)."""
        for name, requests, size in self.weights:
            print(f"{self.prefix:10} {name:28} {requests:2d} requests {size / 1024:5.1f} KB")

    def heading(self):
        return words(self.page.get_by_role("heading", level=1).inner_text())


def assert_error_next_to(field, message):
    """`message` is shown right after the field and tied to it (read with the field)."""
    from playwright.sync_api import expect

    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(re.escape(message)))
    error = field.locator("xpath=following-sibling::ul[contains(@class, 'errorlist')][1]")
    assert words(error.inner_text()) == message


def tr(lang: str, msgid: str, *, same: bool = False) -> str:
    """`msgid` as the catalogue of `lang` has it (and it must have it: not the English,
    unless `same`, for words such as «CVV»)."""
    from django.utils import translation

    with translation.override(lang):
        text = translation.gettext(msgid)
    assert same or text != msgid, f"{msgid!r} has no {lang} translation"
    return text


def sign_in(page, live_server, wallet, lang):
    """Number → «Войти» → password → «Войти», as a person signs in (tests.factories' password)."""
    from tests.factories import PASSWORD

    t = CAPTIONS[lang]
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label(t["wallet_number"]).fill(wallet.number.removeprefix("+996"))
    page.get_by_role("button", name=t["sign_in"], exact=True).click()
    page.get_by_label(t["password"], exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t["sign_in"], exact=True).click()
    page.wait_for_load_state("load")
    heading = words(page.get_by_role("heading", level=1).inner_text())
    assert heading.startswith(t["wallet_h"].format(number="")), heading
    page.net.reset()
