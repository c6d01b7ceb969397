"""The ELQR codec on codes written by hand the way real producers write them."""

from urllib.parse import quote

import pytest

from qr import elqr
from qr.elqr import ElqrCode, ElqrError
from tests.qr.helpers import DYNAMIC, KGS, STATIC, VERSION, link, payload, seal, tlv

ROUTER = "https://qr.kapchyk.kg/"

# A person's static code as MBank writes it: no amount, the recipient not editable.
MBANK_C2C = link(
    "https://app.mbank.kg/qr/",
    VERSION,
    STATIC,
    tlv(
        "32",
        tlv("00", "c2c.mbank.kg") + tlv("01", "02") + tlv("10", "996700123456") + tlv("13", "12"),
    ),
    tlv("52", "9999"),
    KGS,
    tlv("59", "AIBEK T."),
)

# O! Bank: sub-ids out of order, a Cyrillic comment, amount 0, an upper-case checksum.
OBANK_P2P = link(
    "https://api.dengi.o.kg/ru/qr/",
    VERSION,
    STATIC,
    tlv(
        "32",
        tlv("00", "p2p.dengi.kg")
        + tlv("01", "8580")
        + tlv("11", "123456789012")
        + tlv("10", "996700123456")
        + tlv("12", "11")
        + tlv("13", "12"),
    ),
    tlv("34", "АЙБЕК Т."),
    tlv("52", "7399"),
    KGS,
    tlv("54", "0"),
    tlv("59", "O!Bank"),
    upper=True,
)

# A sticker code on pay.payqr.kg (no slash before #), with a merchant template and the
# currency after the name.
PAYQR_MERCHANT = link(
    "https://pay.payqr.kg",
    VERSION,
    STATIC,
    tlv("32", tlv("00", "qr.dcb.kg") + tlv("01", "1325") + tlv("10", "996700123456")),
    tlv("33", tlv("01", "Оплата по номеру телефона") + tlv("00", "34077")),
    tlv("52", "7399"),
    tlv("59", "Simbank"),
    KGS,
)

# Elcart: the currency before the MCC, a masked card number as the name.
ELCART_CARD = link(
    "https://pay.payqr.kg",
    VERSION,
    STATIC,
    tlv("32", tlv("00", "p2p.elcart.kg") + tlv("01", "1") + tlv("10", "3435fba7738e54e5")),
    KGS,
    tlv("52", "4822"),
    tlv("59", "9417 **** **** 5269"),
)

# A static code with a fixed amount the payer may not change (5 556,00 som).
FIXED_AMOUNT = link(
    "https://api.dengi.o.kg/ru/qr/",
    VERSION,
    STATIC,
    tlv("32", tlv("00", "p2p.dengi.kg") + tlv("10", "996700123456") + tlv("12", "12")),
    KGS,
    tlv("54", "555600"),
    tlv("59", "O!Bank"),
)

# A cashier's dynamic code for «КАФЕ "КЕНТ"», 450 som, as a bare payload.
CAFE_FIELDS = (
    VERSION,
    DYNAMIC,
    tlv(
        "32",
        tlv("00", "kapchyk.kg")
        + tlv("01", "merchant")
        + tlv("10", "kent")
        + tlv("11", "01JZ8H34F4KWB0D8")
        + tlv("12", "12")
        + tlv("13", "12"),
    ),
    tlv("33", tlv("00", "kent") + tlv("01", "Кафе")),
    tlv("52", "5812"),
    KGS,
    tlv("54", "45000"),
    tlv("59", 'КАФЕ "КЕНТ"'),
)
CAFE = ElqrCode(
    type="dynamic",
    provider_id="kapchyk.kg",
    service_code="merchant",
    recipient_id="kent",
    transaction_id="01JZ8H34F4KWB0D8",
    amount_editable=False,
    recipient_editable=False,
    merchant_id="kent",
    service_name="Кафе",
    mcc="5812",
    amount=45000,
    name='КАФЕ "КЕНТ"',
)


def test_a_person_static_code_without_amount():
    code = elqr.parse(MBANK_C2C)
    assert code == ElqrCode(
        type="static",
        provider_id="c2c.mbank.kg",
        service_code="02",
        recipient_id="996700123456",
        recipient_editable=False,
        mcc="9999",
        name="AIBEK T.",
    )
    assert code.amount is None and code.amount_editable is True
    assert code.version == "01" and code.currency == "417"


def test_sub_ids_in_any_order_cyrillic_comment_amount_zero_upper_case_checksum():
    code = elqr.parse(OBANK_P2P)
    assert code.checksum.isupper()  # kept as written, for the operator
    assert (code.provider_id, code.service_code) == ("p2p.dengi.kg", "8580")
    assert (code.recipient_id, code.transaction_id) == ("996700123456", "123456789012")
    assert code.comment == "АЙБЕК Т."
    assert code.amount == 0 and code.amount_editable is True
    assert code.recipient_editable is False
    assert code.name == "O!Bank"


def test_lower_case_checksum_of_the_same_code():
    lower = OBANK_P2P[:-4] + OBANK_P2P[-4:].lower()
    assert lower != OBANK_P2P
    assert elqr.parse(lower) == elqr.parse(OBANK_P2P)


def test_merchant_template_and_fields_in_any_order():
    code = elqr.parse(PAYQR_MERCHANT)
    assert code.merchant_id == "34077"
    assert code.service_name == "Оплата по номеру телефона"
    assert code.name == "Simbank" and code.currency == "417" and code.mcc == "7399"
    assert code.amount is None


def test_currency_before_mcc():
    code = elqr.parse(ELCART_CARD)
    assert (code.mcc, code.currency, code.name) == ("4822", "417", "9417 **** **** 5269")


def test_static_with_a_fixed_amount():
    code = elqr.parse(FIXED_AMOUNT)
    assert code.type == "static"
    assert code.amount == 555600 and code.amount_editable is False


def test_dynamic_bare_payload_reads_as_the_link():
    bare = payload(*CAFE_FIELDS)
    assert elqr.parse(bare) == CAFE
    assert elqr.parse(ROUTER + "#" + quote(bare, safe="")) == CAFE
    assert elqr.parse("  " + bare + "\n") == CAFE  # as a scanner may hand it over


def test_plus_stands_for_a_space():
    body = VERSION + STATIC + tlv("32", tlv("00", "c2c.mbank.kg")) + tlv("59", "KIRILL B.")
    text = "https://app.mbank.kg/qr/#" + quote(seal(body), safe="").replace("%20", "+")
    assert "KIRILL+B." in text
    assert elqr.parse(text).name == "KIRILL B."


def test_a_plus_sign_itself_is_percent_encoded():
    code = ElqrCode(type="static", provider_id="x.kg", name="A+B 100%")
    text = elqr.build(code, router=ROUTER)
    assert "A%2BB%20100%25" in text
    assert elqr.parse(text).name == "A+B 100%"


def test_cyrillic_not_percent_encoded_is_read_too():
    body = VERSION + STATIC + tlv("32", tlv("00", "kapchyk.kg")) + tlv("59", "Айбек")
    assert elqr.parse(ROUTER + "#" + seal(body)).name == "Айбек"


def test_the_builder_writes_the_canonical_link():
    # Ids and sub-ids ascending, both flags written, checksum in lower case, percent-encoded.
    expected_payload = payload(
        VERSION,
        DYNAMIC,
        tlv(
            "32",
            tlv("00", "kapchyk.kg")
            + tlv("01", "merchant")
            + tlv("10", "kent")
            + tlv("11", "01JZ8H34F4KWB0D8")
            + tlv("12", "12")
            + tlv("13", "12"),
        ),
        tlv("33", tlv("00", "kent") + tlv("01", "Кафе")),
        tlv("52", "5812"),
        KGS,
        tlv("54", "45000"),
        tlv("59", 'КАФЕ "КЕНТ"'),
    )
    built = elqr.build(CAFE, router=ROUTER)
    assert built == ROUTER + "#" + quote(expected_payload, safe="")
    assert built.isascii()
    assert built[-4:] == built[-4:].lower()
    assert elqr.parse(built) == CAFE


def test_the_builder_reorders_and_writes_flags_out():
    # A producer's order in, the canonical order out.
    code = elqr.parse(ELCART_CARD)
    assert elqr.build(code, router="https://pay.payqr.kg") == link(
        "https://pay.payqr.kg",
        VERSION,
        STATIC,
        tlv(
            "32",
            tlv("00", "p2p.elcart.kg")
            + tlv("01", "1")
            + tlv("10", "3435fba7738e54e5")
            + tlv("12", "11")
            + tlv("13", "11"),
        ),
        tlv("52", "4822"),
        KGS,
        tlv("59", "9417 **** **** 5269"),
    )


def test_extra_fields_35_to_39_may_repeat_and_keep_their_order():
    text = link(
        ROUTER,
        VERSION,
        STATIC,
        tlv("32", tlv("00", "kapchyk.kg")),
        tlv("36", "b"),
        tlv("35", "z:1"),
        tlv("35", "a:2"),
        KGS,
    )
    code = elqr.parse(text)
    assert code.extra == (("35", "z:1"), ("35", "a:2"), ("36", "b"))
    rebuilt = elqr.build(code, router=ROUTER)
    assert "3503z%3A13503a%3A23601b" in rebuilt
    assert elqr.parse(rebuilt) == code


def test_unknown_fields_are_kept_and_written_back():
    text = link(
        ROUTER,
        tlv("62", "later"),
        VERSION,
        STATIC,
        tlv("32", tlv("05", "five") + tlv("00", "kapchyk.kg")),
        tlv("33", tlv("07", "seven") + tlv("00", "m1")),
        tlv("27", "early"),
        tlv("60", ""),  # empty: as if absent
    )
    code = elqr.parse(text)
    assert code.unknown == (("27", "early"), ("32.05", "five"), ("33.07", "seven"), ("62", "later"))
    assert code.currency is None
    rebuilt = elqr.build(code, router=ROUTER)
    assert elqr.parse(rebuilt) == code
    assert rebuilt == link(
        ROUTER,
        VERSION,
        STATIC,
        tlv("27", "early"),
        tlv("32", tlv("00", "kapchyk.kg") + tlv("05", "five") + tlv("12", "11") + tlv("13", "11")),
        tlv("33", tlv("00", "m1") + tlv("07", "seven")),
        tlv("62", "later"),
    )


@pytest.mark.parametrize(
    "fields",
    [
        # The whole template 32 holds at most 99 characters, the two flags included.
        {"provider_id": "p" * 32, "recipient_id": "r" * 32, "service_code": "s" * 7},
        {"provider_id": "p" * 4, "transaction_id": "t" * 32, "service_code": "s" * 39},
        {"provider_id": "kapchyk.kg", "comment": "к" * 32, "name": "Я" * 25},
        {"provider_id": "kapchyk.kg", "merchant_id": "m" * 50, "service_name": "с" * 41},
    ],
)
def test_limits_are_inclusive(fields):
    code = ElqrCode(type="dynamic", amount=1, **fields)
    assert elqr.parse(elqr.build(code, router=ROUTER)) == code


# --- refusals: each with its reason --------------------------------------------------------

PAYEE = tlv("32", tlv("00", "kapchyk.kg") + tlv("10", "996700123456"))


def _code(*fields):
    return link(ROUTER, *fields)


def _cut(text: str, at: int) -> str:
    return text[:at]


VALID = _code(VERSION, STATIC, PAYEE, KGS, tlv("59", "AIBEK"))
VALID_PAYLOAD = payload(VERSION, STATIC, PAYEE, KGS, tlv("59", "AIBEK"))

REFUSED = {
    "empty": ["", "   \n"],
    "too_long": [ROUTER + "#" + "0" * 5000],
    "not_a_link": ["hello world", "оплата", "c2c.mbank.kg", "12a4"],
    "not_elqr": [
        "https://kapchyk.kg/page",
        "https://kapchyk.kg/#about",
        "https://kapchyk.kg/#",
        "http://app.mbank.kg/qr/#" + VALID_PAYLOAD,
        "mailto:someone@kapchyk.kg",
        "https:///#" + VALID_PAYLOAD,
        "https://[::1/#" + VALID_PAYLOAD,
    ],
    "bad_encoding": [ROUTER + "#000201%D0", ROUTER + "#0002%FF%FE"],
    "outside_bmp": [
        _code(VERSION, STATIC, PAYEE, KGS, tlv("59", "AIBEK 😀")),
        ROUTER + "#" + seal(VERSION + STATIC + PAYEE + tlv("59", "𝐀")),
    ],
    "tlv_truncated": [
        ROUTER + "#" + quote(VALID_PAYLOAD[:-6]),  # cut inside field 63's header
        ROUTER + "#0002010",
    ],
    "tlv_overrun": [
        ROUTER + "#" + VALID_PAYLOAD[:30],  # cut in the middle of field 32's value
        ROUTER + "#" + VERSION + STATIC + "5930AIBEK" + "6304abcd",  # a length past the end
        _code(VERSION, STATIC, "3220" + tlv("00", "kapchyk.kg"), KGS),  # inside field 32
    ],
    "tlv_malformed": [ROUTER + "#000201XX02ab", _code(VERSION, STATIC, tlv("32", "00xxkapchyk"))],
    "checksum_missing": [ROUTER + "#" + VERSION + STATIC + PAYEE + KGS],
    "checksum_not_last": [
        ROUTER + "#" + quote(seal(VERSION + STATIC + PAYEE) + tlv("59", "AIBEK"))
    ],
    "checksum_invalid": [
        ROUTER + "#" + VERSION + STATIC + PAYEE + "6304wxyz",
        ROUTER + "#" + VERSION + STATIC + PAYEE + "6305abcde",
        ROUTER + "#" + VERSION + STATIC + PAYEE + "6300",
    ],
    "checksum_mismatch": [
        VALID[:-4] + ("0000" if not VALID.endswith("0000") else "1111"),
        VALID.replace("AIBEK", "AIBEQ"),  # the content changed, the checksum did not
    ],
    "repeated_field": [
        _code(VERSION, STATIC, PAYEE, KGS, tlv("59", "A"), tlv("59", "B")),
        _code(VERSION, STATIC, PAYEE, PAYEE, KGS),
        _code(VERSION, STATIC, tlv("32", tlv("00", "x") + tlv("10", "a") + tlv("10", "b"))),
        _code(VERSION, STATIC, PAYEE, tlv("62", "a"), tlv("62", "b")),
        ROUTER + "#" + quote(seal(seal(VERSION + STATIC + PAYEE))),
    ],
    "version_missing": [_code(STATIC, PAYEE, KGS), _code(tlv("00", ""), STATIC, PAYEE)],
    "version_invalid": [_code(tlv("00", "02"), STATIC, PAYEE, KGS)],
    "type_missing": [_code(VERSION, PAYEE, KGS)],
    "type_invalid": [_code(VERSION, tlv("01", "13"), PAYEE, KGS)],
    "payee_missing": [
        _code(VERSION, STATIC, KGS, tlv("59", "AIBEK")),
        _code(VERSION, STATIC, tlv("32", tlv("10", "996700123456"))),
    ],
    "currency_invalid": [_code(VERSION, STATIC, PAYEE, tlv("53", "840"), tlv("54", "100"))],
    "amount_required": [
        _code(VERSION, DYNAMIC, PAYEE, KGS, tlv("54", "0")),
        _code(VERSION, DYNAMIC, PAYEE, KGS),
        _code(VERSION, STATIC, tlv("32", tlv("00", "x") + tlv("12", "12")), KGS),
    ],
    "amount_invalid": [
        _code(VERSION, STATIC, PAYEE, KGS, tlv("54", "100.50")),
        _code(VERSION, STATIC, PAYEE, KGS, tlv("54", "-5")),
        _code(VERSION, STATIC, PAYEE, KGS, tlv("54", "١٠٠")),  # Arabic-Indic digits
        _code(VERSION, STATIC, PAYEE, KGS, tlv("54", "1" * 14)),
    ],
    "mcc_invalid": [
        _code(VERSION, STATIC, PAYEE, tlv("52", "58A2")),
        _code(VERSION, STATIC, PAYEE, tlv("52", "581")),
    ],
    "flag_invalid": [_code(VERSION, STATIC, tlv("32", tlv("00", "x") + tlv("13", "10")))],
    "field_too_long": [
        _code(VERSION, STATIC, PAYEE, tlv("59", "N" * 26)),
        _code(VERSION, STATIC, PAYEE, tlv("34", "к" * 33)),
        _code(VERSION, STATIC, tlv("32", tlv("00", "p" * 33))),
        _code(VERSION, STATIC, tlv("32", tlv("00", "x") + tlv("10", "r" * 33))),
        _code(VERSION, STATIC, tlv("32", tlv("00", "x") + tlv("11", "t" * 33))),
    ],
}


@pytest.mark.parametrize(
    ("reason", "text"),
    [(reason, text) for reason, texts in REFUSED.items() for text in texts],
)
def test_refused_with_its_reason(reason, text):
    with pytest.raises(ElqrError) as caught:
        elqr.parse(text)
    assert caught.value.code == reason, caught.value.message


def test_the_valid_base_of_the_refusals_is_valid():
    assert elqr.parse(VALID).name == "AIBEK"


def test_the_error_says_what_and_where():
    with pytest.raises(ElqrError) as caught:
        elqr.parse(_code(VERSION, STATIC, PAYEE, tlv("59", "N" * 26)))
    assert caught.value.field == "59"
    assert str(caught.value) == "field_too_long: the name (59) has 26 characters, at most 25"
    body = VERSION + STATIC + PAYEE
    with pytest.raises(ElqrError) as caught:
        elqr.parse(ROUTER + "#" + body + "6304ABCD")
    expected = seal(body)[-4:]
    assert caught.value.message == f"the code says ABCD, its content gives {expected}"


def test_the_checksum_is_over_the_decoded_text_not_the_link():
    # Hashing the percent-encoded link instead would give another checksum.
    body = VERSION + STATIC + PAYEE + tlv("59", "Айбек")
    wrong = body + "6304" + elqr.checksum_of(quote(body, safe=""))
    with pytest.raises(ElqrError) as caught:
        elqr.parse(ROUTER + "#" + quote(wrong, safe=""))
    assert caught.value.code == "checksum_mismatch"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"name": "N" * 26}, "field_too_long"),
        ({"name": ""}, "field_empty"),
        ({"name": "😀"}, "outside_bmp"),
        ({"currency": "840"}, "currency_invalid"),
        ({"type": "dynamic"}, "amount_required"),
        ({"type": "dynamic", "amount": 0}, "amount_required"),
        ({"amount_editable": False}, "amount_required"),
        ({"amount": -1}, "amount_invalid"),
        ({"amount": 1.5}, "amount_invalid"),
        ({"amount": True}, "amount_invalid"),
        ({"mcc": "12345"}, "mcc_invalid"),
        ({"type": "other"}, "type_invalid"),
        ({"version": "02"}, "version_invalid"),
        ({"provider_id": ""}, "payee_missing"),
        ({"extra": (("40", "x"),)}, "field_invalid"),
        ({"unknown": (("59", "x"),)}, "field_invalid"),
        ({"unknown": (("32.10", "x"),)}, "field_invalid"),
        ({"unknown": (("27", "a"), ("27", "b"))}, "repeated_field"),
        (
            {"recipient_id": "r" * 32, "transaction_id": "t" * 32, "service_code": "s" * 9},
            "field_too_long",
        ),
        ({"service_code": "s" * 100}, "field_too_long"),
    ],
)
def test_the_builder_refuses_what_the_parser_would(changes, reason):
    base = ElqrCode(type="static", provider_id="kapchyk.kg", name="AIBEK")
    with pytest.raises(ElqrError) as caught:
        elqr.build(elqr.replace(base, **changes), router=ROUTER)
    assert caught.value.code == reason


def test_the_router_must_be_https():
    code = ElqrCode(type="static", provider_id="kapchyk.kg")
    with pytest.raises(ValueError):
        elqr.build(code, router="http://qr.kapchyk.kg/")
    with pytest.raises(ValueError):
        elqr.build(code, router="https://qr.kapchyk.kg/#x")
