from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from providers import validators
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db


def messages_of(provider, value, language="ru"):
    with translation.override(language), pytest.raises(ValidationError) as caught:
        provider.validate_account(value)
    return caught.value.messages


def test_demo_catalogue_matches_the_instructions(catalogue):
    dostek, ecp, hoster = catalogue["dostek"], catalogue["dostek-ecp"], catalogue["hoster"]
    assert dostek.category.name_ru == "Другие"
    assert dostek.category.ussd_number == 14
    assert (dostek.name_ru, dostek.ussd_name, dostek.ussd_number) == ("DosTek group", "Достэк", 14)
    assert ecp.name_ru == "Оплата ЭЦП"
    assert hoster.name_ru == "Hoster.kg"
    for provider in (dostek, ecp, hoster):
        assert provider.category_id == dostek.category_id
        assert provider.account.kind == "provider"
        assert provider.account.code == f"provider:{provider.slug}"
        assert provider.gateway == "internal"
    assert {p.category.slug for p in catalogue.values()} >= {
        "mobile",
        "internet",
        "utilities",
        "other",
    }


def test_names_and_hints_follow_the_language(catalogue):
    dostek = catalogue["dostek"]
    with translation.override("ky"):
        assert dostek.account_label == "Компаниянын ИННи"
        assert dostek.category.name == "Башкалар"
        assert "14 сан" in dostek.account_hint
    with translation.override("ru"):
        assert dostek.account_label == "ИНН компании"
        assert dostek.category.name == "Другие"
        assert "14 цифр" in dostek.account_hint


def test_empty_kyrgyz_name_falls_back_to_russian():
    provider = ProviderFactory(name_ky="", name_ru="Только русский")
    with translation.override("ky"):
        assert provider.name == "Только русский"


@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("01234567890123", "01234567890123"),  # an organisation: no date in it
        ("0123 4567 8901 23", "01234567890123"),
        ("  0123-4567-8901-23 ", "01234567890123"),
        ("22902200012345", "22902200012345"),  # born 29.02.2000 (a leap year)
        ("10101199012345", "10101199012345"),
    ],
)
def test_dostek_accepts_inns(catalogue, raw, normalised):
    assert catalogue["dostek"].validate_account(raw) == normalised


def test_inn_of_wrong_length_says_the_hint(catalogue):
    got = messages_of(catalogue["dostek"], "0123456789012")
    assert got[-1] == "ИНН организации или ИП, чей баланс в СОчИ пополняется: 14 цифр"


def test_letters_in_inn_are_refused(catalogue):
    got = messages_of(catalogue["dostek"], "0123456789012A")
    assert got[-1] == catalogue["dostek"].account_hint_ru


@pytest.mark.parametrize(
    "inn, shown",
    [
        ("23202199012345", "32.02.1990"),
        ("22902200112345", "29.02.2001"),
        ("11313199012345", "13.13.1990"),
        ("10101189912345", "01.01.1899"),
    ],
)
def test_impossible_date_in_personal_inn(catalogue, inn, shown):
    got = messages_of(catalogue["dostek"], inn)
    assert shown in got[0]
    assert got[-1] == catalogue["dostek"].account_hint_ru


def test_future_birth_date_is_refused(catalogue):
    got = messages_of(catalogue["dostek"], "10101209912345")
    assert "01.01.2099" in got[0]


def test_messages_use_the_kyrgyz_hint(catalogue):
    got = messages_of(catalogue["dostek"], "12", language="ky")
    assert got[-1] == catalogue["dostek"].account_hint_ky


def test_ecp_needs_16_digits(catalogue):
    ecp = catalogue["dostek-ecp"]
    assert ecp.validate_account("1234 5678 9012 3456") == "1234567890123456"
    assert messages_of(ecp, "123456789012345") == [ecp.account_hint_ru]
    assert messages_of(ecp, "12345678901234567") == [ecp.account_hint_ru]


def test_hoster_code_starts_with_00(catalogue):
    hoster = catalogue["hoster"]
    assert hoster.validate_account("0012345") == "0012345"
    got = messages_of(hoster, "1012345")
    assert got[-1] == hoster.account_hint_ru
    assert len(got) == 2  # the named check's own message, then the hint


def test_empty_account():
    provider = ProviderFactory()
    assert len(messages_of(provider, "   ")) == 2


def test_fee_is_fixed_plus_percent_rounded_half_up():
    provider = ProviderFactory(fee_fixed=5_00, fee_percent=Decimal("1.50"))
    assert provider.fee_for(200_00) == 5_00 + 3_00
    assert provider.fee_for(100) == 5_00 + 2  # 1.5 tyiyn → 2
    assert provider.fee_for(99) == 5_00 + 1  # 1.485 → 1
    assert provider.fee_for(101) == 5_00 + 2  # 1.515 → 2
    assert ProviderFactory().fee_for(123_45) == 0


def test_unknown_named_check_is_refused_by_the_admin_rule():
    with pytest.raises(ValidationError):
        validators.validate_names("inn_date, nope")
    validators.validate_names("inn_date, starts_00")


def test_bad_regex_is_refused_by_clean():
    provider = ProviderFactory.build(account_regex="(\\d")
    with pytest.raises(ValidationError) as caught:
        provider.clean()
    assert "account_regex" in caught.value.message_dict


def test_search_finds_by_either_language(catalogue):
    from providers.models import Provider

    assert list(Provider.objects.search("достэк").values_list("slug", flat=True)) == ["dostek"]
    assert "severelectro" in Provider.objects.search("түндүк").values_list("slug", flat=True)
    assert "severelectro" in Provider.objects.search("СЕВЕР").values_list("slug", flat=True)
    assert not Provider.objects.search("   ").exists()
