"""manage.py qr decode / encode: the exact output operators rely on."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.qr.helpers import DYNAMIC, KGS, STATIC, VERSION, link, payload, seal, tlv

ROOT = Path(__file__).resolve().parents[2]

MBANK = link(
    "https://app.mbank.kg/qr/",
    VERSION,
    STATIC,
    tlv(
        "32",
        tlv("00", "c2c.mbank.kg") + tlv("01", "02") + tlv("10", "996700123456") + tlv("13", "12"),
    ),
    tlv("52", "9999"),
    KGS,
    tlv("59", "KIRILL B."),
)

NULLS = {
    "version": None,
    "type": None,
    "provider_id": None,
    "service_code": None,
    "recipient_id": None,
    "transaction_id": None,
    "amount_editable": None,
    "recipient_editable": None,
    "merchant_id": None,
    "service_name": None,
    "comment": None,
    "mcc": None,
    "currency": None,
    "amount": None,
    "name": None,
    "checksum": None,
}


def decode(text):
    out = StringIO()
    try:
        call_command("qr", "decode", text, stdout=out)
    except CommandError as exc:
        assert exc.returncode == 1
        return json.loads(out.getvalue()), 1
    return json.loads(out.getvalue()), 0


def test_decode_another_banks_code():
    result, status = decode(MBANK)
    assert status == 0
    assert result == {
        "valid": True,
        "error": None,
        "version": "01",
        "type": "static",
        "provider_id": "c2c.mbank.kg",
        "service_code": "02",
        "recipient_id": "996700123456",
        "transaction_id": None,
        "amount_editable": True,
        "recipient_editable": False,
        "merchant_id": None,
        "service_name": None,
        "comment": None,
        "mcc": "9999",
        "currency": "417",
        "amount": None,
        "name": "KIRILL B.",
        "checksum": MBANK[-4:],
        "payable_here": False,
    }
    assert list(result) == ["valid", "error", *NULLS, "payable_here"]


def test_decode_our_dynamic_code_is_payable_here():
    text = payload(
        VERSION,
        DYNAMIC,
        tlv("32", tlv("00", "kapchyk.kg") + tlv("10", "kent") + tlv("11", "T1") + tlv("12", "12")),
        tlv("33", tlv("00", "kent") + tlv("01", "Кафе")),
        tlv("34", "Заказ 12"),
        tlv("52", "5812"),
        KGS,
        tlv("54", "45000"),
        tlv("59", 'КАФЕ "КЕНТ"'),
        upper=True,
    )
    result, status = decode(text)
    assert status == 0
    assert result == {
        "valid": True,
        "error": None,
        "version": "01",
        "type": "dynamic",
        "provider_id": "kapchyk.kg",
        "service_code": None,
        "recipient_id": "kent",
        "transaction_id": "T1",
        "amount_editable": False,
        "recipient_editable": True,
        "merchant_id": "kent",
        "service_name": "Кафе",
        "comment": "Заказ 12",
        "mcc": "5812",
        "currency": "417",
        "amount": 45000,
        "name": 'КАФЕ "КЕНТ"',
        "checksum": text[-4:],
        "payable_here": True,
    }


def test_payable_here_follows_the_provider_id_setting(settings):
    settings.ELQR_PROVIDER_ID = "c2c.mbank.kg"
    assert decode(MBANK)[0]["payable_here"] is True


def test_decode_invalid_code_exits_1_with_the_reason():
    body = VERSION + STATIC + tlv("32", tlv("00", "kapchyk.kg")) + tlv("53", "840")
    result, status = decode("https://qr.kapchyk.kg/#" + quote(seal(body), safe=""))
    assert status == 1
    assert result == {
        "valid": False,
        "error": "currency_invalid: currency '840': only 417 (the som) is accepted",
        **NULLS,
        "payable_here": False,
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("hello", "not_a_link: neither a link nor an ELQR payload"),
        ("https://kapchyk.kg/", "not_elqr: not an ELQR link: nothing after #"),
        (
            MBANK[:-4] + "0000",
            f"checksum_mismatch: the code says 0000, its content gives {MBANK[-4:]}",
        ),
    ],
)
def test_decode_refusals(text, error):
    result, status = decode(text)
    assert (status, result["valid"], result["error"]) == (1, False, error)


def test_manage_py_exit_status_and_stdout():
    # The exit status as a shell sees it: 0 valid, 1 invalid; stdout is the JSON alone.
    def run(text):
        return subprocess.run(
            [sys.executable, "manage.py", "qr", "decode", text],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    good = run(MBANK)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["valid"] is True
    bad = run(MBANK[:-4] + "0000")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["valid"] is False
    assert "checksum_mismatch" in bad.stderr


def encode(*args):
    out = StringIO()
    call_command("qr", "encode", *args, stdout=out)
    return out.getvalue().strip()


def test_encode_a_static_code_for_a_wallet():
    text = encode("--type", "static", "--recipient", "996555123456", "--name", "АЙБЕК Т.")
    assert text == link(
        "https://qr.kapchyk.kg/",
        VERSION,
        STATIC,
        tlv(
            "32",
            tlv("00", "kapchyk.kg") + tlv("10", "996555123456") + tlv("12", "11") + tlv("13", "12"),
        ),
        KGS,
        tlv("59", "АЙБЕК Т."),
    )
    result, status = decode(text)
    assert status == 0
    assert result["amount"] is None and result["amount_editable"] is True
    assert result["payable_here"] is True


def test_encode_a_dynamic_code_with_every_option(settings):
    settings.ELQR_ROUTER_URL = "https://pay.example.kg/qr/"
    settings.ELQR_PROVIDER_ID = "example.kg"
    text = encode(
        "--type", "dynamic",
        "--recipient", "kent",
        "--amount", "45000",
        "--name", 'КАФЕ "КЕНТ"',
        "--merchant", "kent",
        "--mcc", "5812",
        "--transaction", "01JZ8H34",
        "--comment", "Заказ 12",
        "--fixed-amount",
    )  # fmt: skip
    assert text == link(
        "https://pay.example.kg/qr/",
        VERSION,
        DYNAMIC,
        tlv(
            "32",
            tlv("00", "example.kg")
            + tlv("10", "kent")
            + tlv("11", "01JZ8H34")
            + tlv("12", "12")
            + tlv("13", "12"),
        ),
        tlv("33", tlv("00", "kent")),
        tlv("34", "Заказ 12"),
        tlv("52", "5812"),
        KGS,
        tlv("54", "45000"),
        tlv("59", 'КАФЕ "КЕНТ"'),
    )
    result, _status = decode(text)
    assert (result["type"], result["amount"], result["amount_editable"]) == (
        "dynamic",
        45000,
        False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--type", "dynamic", "--recipient", "x", "--name", "N"],
            "amount_required: a dynamic code needs an amount above 0",
        ),
        (
            ["--type", "static", "--recipient", "x", "--name", "N" * 26],
            "field_too_long: the name (59) has 26 characters, at most 25",
        ),
        (
            ["--type", "static", "--recipient", "x", "--name", "N", "--mcc", "58"],
            "mcc_invalid: MCC '58' is not 4 digits",
        ),
    ],
)
def test_encode_refuses_a_code_the_standard_forbids(args, message):
    with pytest.raises(CommandError) as caught:
        encode(*args)
    assert str(caught.value) == message
