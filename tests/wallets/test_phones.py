import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from wallets.auth_forms import WalletNumberField
from wallets.phones import (
    BEELINE,
    MEGACOM,
    O_MOBILE,
    format_number,
    normalize_wallet_number,
    operator_of,
)


@pytest.fixture(autouse=True)
def _russian():
    with translation.override("ru"):
        yield


@pytest.mark.parametrize(
    "raw",
    [
        "0555 123 456",
        "555123456",
        "+996 555 12-34-56",
        "996555123456",
        "+996555123456",
        " (0555) 123-456 ",
        "0555.123.456",
    ],
)
def test_every_usual_spelling_means_the_same_wallet(raw):
    assert normalize_wallet_number(raw) == "+996555123456"


@pytest.mark.parametrize(
    ("raw", "e164", "operator"),
    [
        ("0555 123 456", "+996555123456", MEGACOM),
        ("0990 123 456", "+996990123456", MEGACOM),
        ("0880 123 456", "+996880123456", MEGACOM),
        ("0770 123 456", "+996770123456", BEELINE),
        ("0220 123 456", "+996220123456", BEELINE),
        ("0600 123 456", "+996600123456", BEELINE),
        ("0700 123 456", "+996700123456", O_MOBILE),
        ("0500 123 456", "+996500123456", O_MOBILE),
        ("0509 123 456", "+996509123456", O_MOBILE),
    ],
)
def test_megacom_beeline_and_o_numbers_are_wallets(raw, e164, operator):
    assert normalize_wallet_number(raw) == e164
    assert operator_of(e164) == operator


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("", "required", "Введите номер мобильного телефона."),
        ("0312 123456", "landline", "Это городской номер. Номер кошелька — мобильный номер."),
        (
            "+7 701 123 4567",
            "foreign",
            "Номером кошелька может быть только кыргызский мобильный номер (+996).",
        ),
        (
            "77011234567",
            "foreign",
            "Номером кошелька может быть только кыргызский мобильный номер (+996).",
        ),
        (
            "0545 123 456",  # Aktel: phonenumbers calls it mobile; no wallets there
            "operator",
            "Кошельки обслуживаются только для номеров Megacom, Beeline и O!.",
        ),
        ("0555 12 34", "invalid", "В мобильном номере 9 цифр после +996, например 0555 123 456."),
        ("05551234567", "invalid", "В мобильном номере 9 цифр после +996, например 0555 123 456."),
        ("0555 abc 456", "invalid", "Номер состоит только из цифр, например 0555 123 456."),
        ("0100 123 456", "invalid", "Такого кыргызского номера не существует. Проверьте цифры."),
    ],
)
def test_other_numbers_are_refused_with_a_clear_message(raw, code, message):
    with pytest.raises(ValidationError) as caught:
        normalize_wallet_number(raw)
    assert caught.value.code == code
    assert caught.value.messages == [message]


def test_the_form_field_cleans_to_e164_and_says_what_is_wrong():
    field = WalletNumberField()
    assert field.clean("+996 700 12-34-56") == "+996700123456"
    with pytest.raises(ValidationError) as caught:
        field.clean("")
    assert caught.value.messages == ["Введите номер мобильного телефона."]
    with pytest.raises(ValidationError) as caught:
        field.clean("0312 123456")
    assert caught.value.messages == ["Это городской номер. Номер кошелька — мобильный номер."]


def test_numbers_are_shown_in_groups():
    assert format_number("+996555123456") == "+996 555 123 456"
    assert format_number("+77011234567") == "+77011234567"
