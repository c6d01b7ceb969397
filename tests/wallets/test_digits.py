"""Numbers typed with other digits (Arabic-Indic ٠١٢, Persian ۰۱۲, full-width ０１２):
normalised to ASCII before validation, so what is stored and sent is 0-9 only; anything
else that `\\d` or isdigit() would take (superscripts, other scripts' non-decimal digits)
is refused."""

import pytest
from django.core.exceptions import ValidationError

from providers.validators import check_account, compile_rule, inn_date
from wallets.digits import ascii_digits
from wallets.money import parse_som
from wallets.phones import normalize_wallet_number

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
FULL = str.maketrans("0123456789+(),.", "０１２３４５６７８９＋（），．")


def test_ascii_digits():
    assert ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert ascii_digits("０１２３＋（）") == "0123+()"
    assert ascii_digits("١٢٣٫٥٠") == "123,50"
    assert ascii_digits("ИНН 123") == "ИНН 123"
    assert ascii_digits("x²") == "x²"  # not a decimal digit: left for the rule to refuse


@pytest.mark.parametrize("table", [ARABIC, PERSIAN, FULL], ids=["arabic", "persian", "full"])
def test_amounts(table):
    assert parse_som("1500".translate(table)) == 1_500_00
    assert parse_som("150,50".translate(table)) == 150_50
    assert parse_som("150.5".translate(table)) == 150_50


@pytest.mark.parametrize("raw", ["1²", "²", "1٫5٫5", "१२३x"])
def test_amounts_with_other_digit_like_characters_are_refused(raw):
    with pytest.raises(ValidationError):
        parse_som(raw)


@pytest.mark.parametrize("table", [ARABIC, PERSIAN, FULL], ids=["arabic", "persian", "full"])
def test_phone_numbers(table):
    assert normalize_wallet_number("0555 123 456".translate(table)) == "+996555123456"
    assert normalize_wallet_number("+996 (555) 12-34-56".translate(table)) == "+996555123456"


def test_phone_numbers_with_superscripts_are_refused():
    with pytest.raises(ValidationError):
        normalize_wallet_number("0555 123 45²")


@pytest.mark.parametrize("table", [ARABIC, PERSIAN, FULL], ids=["arabic", "persian", "full"])
def test_accounts_are_stored_in_ascii(table):
    inn = "01503200010123"
    assert check_account(inn.translate(table), regex=r"\d{14}", names=["inn_date"], hint="") == inn


def test_account_rules_match_ascii_digits_only():
    assert compile_rule(r"\d{3}").fullmatch("123")
    assert not compile_rule(r"\d{3}").fullmatch("١٢٣")
    assert inn_date("٠١٥٠٣٢٠٠٠١٠١٢٣") == "ИНН состоит из 14 цифр."
    with pytest.raises(ValidationError):
        check_account("12²", regex=r"\d{3}", names=[], hint="")
