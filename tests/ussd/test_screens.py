"""Every screen of every menu fits 182 characters in ky and ru; paging; session expiry;
numbers *900# does not serve; language change."""

import string

import pytest

from providers.models import Category, Provider
from tests.factories import UserFactory
from tests.ussd.conftest import LIMIT, ussd_wallet
from ussd import engine
from ussd.menu import Flow
from ussd.models import UssdSession
from ussd.screens import ELLIPSIS
from ussd.texts import TEXTS
from wallets import ledger
from wallets.models import Account, User

pytestmark = pytest.mark.django_db

STEPS = sorted(name.removeprefix("show_") for name in dir(Flow) if name.startswith("show_"))
ERROR_KEYS = [
    "invalid_choice",
    "invalid_choice_both",
    "reg_name_invalid",
    "inn_length",
    "inn_first",
    "inn_date",
    "account_invalid",
    "amount_invalid",
    "amount_range",
    "amount_funds",
    "pin_format",
    "pin_wrong",
    "pin_same",
    "pin_mismatch",
]
# The longest value each placeholder can take.
WORST = {
    "number": "+996 555 123 456",
    "name": "Ж" * 150,
    "inn": "2" * 14,
    "date": "31.12.2099",
    "hint": "Х" * 300,
    "min": "10 000 000,00 сом",
    "max": "10 000 000,00 сом",
    "balance": "99 999 999 999,99 сом",
    "left": "2",
    "until": "23:59",
    "code": "1234 5678 9012",
    "reason": "П" * 255,
    "category": "К" * 100,
    "provider": "Д" * 24,
    "label": "Л" * 100,
    "account": "9" * 64,
    "amount": "10 000 000,00 сом",
    "fee": "5 000 000,00 сом",
    "total": "15 000 000,00 сом",
    "offer": "kapchyk.kg/offer",
    "pin": "9999",
}
# Texts whose long placeholders the screens shorten (the rest must fit as they are).
SHRUNK = {
    "reg_check",
    "providers",
    "pay_account",
    "account_invalid",
    "pay_confirm",
    "pay_confirm_fee",
    "pay_refused",
    "tr_confirm",
    "tr_confirm_fee",
    "tr_refused",
}
SMS = {"sms_pin", "sms_pin_changed", "sms_pin_locked"}


def fields(template):
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_text_exists_in_both_languages_and_fits(key):
    assert set(TEXTS[key]) == {"ky", "ru"}
    for language, template in TEXTS[key].items():
        assert template.strip() == template
        values = {name: WORST[name] for name in fields(template)}
        rendered = template.format(**values)
        if key in SMS:
            assert len(rendered) <= 300, (key, language)  # at most two SMS parts
        elif key not in SHRUNK:
            assert len("END " + rendered) <= LIMIT, (key, language, len(rendered))


@pytest.fixture
def worst_case(catalogue):
    """A catalogue and a wallet with the longest names, labels, hints and amounts."""
    wallet = ussd_wallet(balance=99_999_999_999_99, pin="4826")
    category = Category.objects.create(
        name_ru="К" * 100, name_ky="К" * 100, slug="worst", ussd_number=999
    )
    provider = Provider.objects.create(
        category=category,
        slug="worst",
        name_ru="Д" * 100,
        name_ky="Д" * 100,
        ussd_name="Д" * 24,
        account_label_ru="Л" * 100,
        account_label_ky="Л" * 100,
        account_hint_ru="Х" * 300,
        account_hint_ky="Х" * 300,
        account_regex=r"\d{1,64}",
        ussd_number=32000,
        fee_percent="50",
        account=ledger.open_account(kind=Account.Kind.PROVIDER, code="provider:worst"),
    )
    for n in range(40):
        Category.objects.create(
            name_ru=f"Категория номер {n} " + "я" * 60,
            name_ky=f"Категория {n} " + "ы" * 60,
            slug=f"c{n}",
            ussd_number=100 + n,
        )
        Provider.objects.create(
            category=category,
            slug=f"p{n}",
            name_ru=f"p{n}",
            name_ky=f"p{n}",
            ussd_name=f"Поставщик {n:02d} " + "щ" * 10,
            account_label_ru="Счет",
            account_label_ky="Эсеп",
            ussd_number=200 + n,
            account=ledger.open_account(kind=Account.Kind.PROVIDER, code=f"provider:p{n}"),
        )
        Provider.objects.create(
            category=Category.objects.get(slug=f"c{n}"),
            slug=f"q{n}",
            name_ru=f"q{n}",
            name_ky=f"q{n}",
            account_label_ru="Счет",
            account_label_ky="Эсеп",
            ussd_number=1,
            account=ledger.open_account(kind=Account.Kind.PROVIDER, code=f"provider:q{n}"),
        )
    state = {
        "name": "Ж" * 150,
        "inn": "2" * 14,
        "category": category.pk,
        "provider": provider.pk,
        "account": "9" * 64,
        "amount": 10_000_000_00,
        "fee": 5_000_000_00,
        "total": 15_000_000_00,
        "tr_number": "+996555123456",
        "tr_name": "Ж" * 150,
    }
    return wallet, state


@pytest.mark.parametrize("language", ["ky", "ru"])
@pytest.mark.parametrize("step", STEPS)
def test_every_screen_of_every_menu_fits(worst_case, step, language):
    wallet, state = worst_case
    errors = [""] + [
        TEXTS[key][language].format(**{n: WORST[n] for n in fields(TEXTS[key][language])})
        for key in ERROR_KEYS
    ]
    errors.append("E" * 400)  # an unforeseen message from a service
    for error in errors:
        for page in (0, 1, 5):
            flow = Flow(phone=wallet.number, state={**state, "lang": language, "page": page})
            screen = flow.go(step, error).render()
            assert len(screen) <= LIMIT, (step, language, error[:20], len(screen), screen)
            # Only names and hints are shortened: the prompt or the menu's last line never.
            assert not screen.endswith(ELLIPSIS), (step, screen)
            assert screen[4:].startswith(error[:10])  # the error is shown, maybe shortened


def test_paging_of_a_long_list(phone, worst_case):
    wallet, _ = worst_case
    handset = phone(wallet.number)
    handset.dial()
    first = handset.send("3", "3")
    assert first.startswith("CON Выберите категорию:\n")
    assert first.endswith("\n0 Назад\n00 Далее")
    shown = [first]
    while shown[-1].endswith("00 Далее"):
        shown.append(handset.send("00"))
        assert len(shown) < 30
    assert len(shown) > 3
    assert shown[-1].endswith("\n0 Назад")
    listed = [line.split(" ", 1)[0] for page in shown for line in page.split("\n")[1:]]
    numbers = [n for n in listed if n not in ("0", "00")]
    expected = [
        str(n)
        for n in Category.objects.for_ussd()
        .filter(providers__active=True, providers__ussd_number__isnull=False)
        .distinct()
        .values_list("ussd_number", flat=True)
    ]
    assert numbers == expected  # every category once, in order, across the pages
    assert handset.send("00").startswith("CON Неверный выбор.\n")  # no page after the last
    assert handset.send("0") == shown[-2]  # 0 goes a page back
    # A category on a later page is chosen by its number.
    handset.send("139")
    assert handset.screens[-1].startswith("CON Категория номер 39")
    assert handset.send("1") == "CON q39\nНаберите лицевой счет (Счет):"


def test_provider_list_is_paged_too(phone, worst_case):
    wallet, _ = worst_case
    handset = phone(wallet.number)
    handset.dial()
    page = handset.send("3", "3", "999")
    assert page.startswith("CON " + "К" * 40)
    assert page.endswith("\n0 Назад\n00 Далее")
    second = handset.send("00")
    assert "Поставщик" in second
    assert handset.send("0") == page
    assert handset.send("0").startswith("CON Выберите категорию:")


def test_expired_session_ends_without_applying_the_input(phone, catalogue):
    wallet = ussd_wallet(balance=100_00)
    handset = phone(wallet.number)
    handset.dial()
    handset.send("3")
    session = UssdSession.objects.get()
    assert session.expires_at > session.updated_at
    UssdSession.objects.filter(pk=session.pk).update(
        expires_at=session.updated_at - engine.SESSION_TTL
    )
    assert handset.send("3") == "END Время сессии истекло. Наберите *900# снова."
    session.refresh_from_db()
    assert (session.closed, session.consumed) == (True, 1)
    assert handset.send("14") == "END Время сессии истекло. Наберите *900# снова."
    # A new dial is a new session.
    assert handset.dial(session_id="s-2").startswith("CON Kapchyk *900#")


def test_session_lives_180_seconds_from_the_last_request(phone, catalogue):
    wallet = ussd_wallet()
    handset = phone(wallet.number)
    handset.dial()
    session = UssdSession.objects.get()
    assert (session.expires_at - session.updated_at).total_seconds() == pytest.approx(180, abs=1)


def test_expired_session_in_kyrgyz(phone, catalogue):
    wallet = ussd_wallet(language="ky")
    handset = phone(wallet.number)
    handset.dial()
    UssdSession.objects.update(expires_at=UssdSession.objects.get().created_at)
    assert handset.send("8") == "END Сессиянын убактысы бүттү. *900# кайра териңиз."


@pytest.mark.parametrize("number", ["+996700123456", "0501 123 456"])
def test_o_numbers_are_not_served(phone, catalogue, number):
    screen = phone(number).dial()
    assert screen == (
        "END *900# обслуживает только номера Megacom и Beeline. Пользуйтесь кошельком на "
        "сайте kapchyk.kg или в приложении."
    )
    assert not UssdSession.objects.exists()
    assert not User.objects.exists()


def test_o_number_is_told_in_its_owners_language(phone, catalogue):
    UserFactory(phone="+996700123456", language="ky")
    assert phone("+996700123456").dial() == (
        "END *900# Megacom жана Beeline номерлерине гана кызмат кылат. Капчыкты kapchyk.kg "
        "сайтынан же тиркемеден колдонуңуз."
    )


def test_language_is_changed_in_settings(phone, catalogue):
    wallet = ussd_wallet(balance=5_000_00)
    handset = phone(wallet.number)
    handset.dial()
    assert handset.send("8") == (
        "CON Баланс/Настройки\nБаланс: 5 000,00 сом\n1 Язык/Тил\n3 Замена пин\n0 Назад"
    )
    assert handset.send("1") == "CON Выберите язык:\n1 Кыргызча\n2 Русский\n0 Назад"
    assert handset.send("1") == (
        "CON Kapchyk *900#\n2 Которуулар\n3 Төлөмдөр/Комм.кызматтар\n8 Баланс/Жөндөөлөр"
    )
    assert User.objects.get(pk=wallet.user.pk).language == "ky"
    assert handset.send("8").startswith("CON Баланс/Жөндөөлөр\nБаланс: 5 000,00 сом")
    assert handset.send("0").startswith("CON Kapchyk")
