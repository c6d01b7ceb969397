"""ELQR, the National Bank of the Kyrgyz Republic's payment QR code: parse and build.

Plain Python, no Django: the web pages, the `qr` command, the transfers and the tests all share
this one reading of the standard.

A code is a link ``https://<router>/#<payload>`` (any https host and path; ``https://pay.payqr.kg#…``
without a slash works too) or a bare payload. The payload is percent-encoded (``+`` stands for
a space) and, once decoded, a TLV sequence: a 2-digit id, a 2-digit length, the value. Lengths
count characters of the decoded text, so only Basic Multilingual Plane characters are allowed
(a character above U+FFFF would count as one here and as two in a UTF-16 reader).

Root ids:
    00 version ``01``               01 ``11`` static / ``12`` dynamic
    32 payee template:  00 provider id (≤ 32)   01 service code   10 recipient id (≤ 32)
                        11 transaction id (≤ 32)
                        12 amount editable, 13 recipient editable: ``11`` yes / ``12`` no
                        (absent = editable)
    33 merchant:        00 merchant id   01 service name
    34 comment (≤ 32)   35–39 extra fields (opaque, may repeat)
    52 MCC (4 digits)   53 currency (``417``, the som)   54 amount in tyiyn (integer)
    59 display name (≤ 25)
    63 checksum: the last 4 hex characters of SHA-256 over the UTF-8 bytes of the decoded
       payload up to, not including, the ``6304``; compared case-insensitively.

Decisions where the standard leaves room (each one tested):
- Fields and sub-fields may come in any order. Field 63 must be the last one: whatever
  followed it would not be covered by the checksum.
- Only ids 35–39 may repeat; any other id, known or not, may appear once (root and sub-fields).
- Unknown ids (root, and sub-ids of 32 and 33) are kept, in ``ElqrCode.unknown`` as
  ``("62", value)`` or ``("32.05", value)``, and written back by the builder.
- A field of length 0 is treated as absent (00, 01 and 63 must have their value).
- Currency, MCC, amount and name are optional; when present they must be valid. A static code
  may carry amount 0 or no amount (the payer enters it). A dynamic code, and a static code whose
  amount is not editable, must carry an amount above 0.
- Checks run in this order, so the reason given is the most basic thing wrong: the link, the
  encoding, the TLV structure, the checksum, then the meaning of the fields.

The builder writes canonical codes: ids and sub-ids in ascending order (repeated 35–39 fields
keep their order), both editable flags written out, the amount without leading zeros, the
checksum in lower case, and the payload percent-encoded in the link (everything but ASCII
letters, digits and ``-._~``). ``parse(build(code, router=r)) == code`` for every code that
``build`` accepts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, unquote_plus, urlsplit

__all__ = ["ElqrCode", "ElqrError", "build", "build_payload", "checksum_of", "parse", "replace"]

MAX_LINK_LENGTH = 4096  # a QR code holds at most 4296 characters; nothing real comes near
VERSION = "01"
TYPES = {"11": "static", "12": "dynamic"}
TYPE_IDS = {name: code for code, name in TYPES.items()}
FLAGS = {"11": True, "12": False}
KGS = "417"

ROOT_IDS = {"00", "01", "32", "33", "34", "52", "53", "54", "59", "63"}
EXTRA_IDS = {"35", "36", "37", "38", "39"}
PAYEE_IDS = {"00", "01", "10", "11", "12", "13"}
MERCHANT_IDS = {"00", "01"}
MAX_AMOUNT_DIGITS = 13

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_HEX4 = re.compile(r"[0-9a-fA-F]{4}", re.ASCII)
_MCC = re.compile(r"[0-9]{4}", re.ASCII)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_NOT_BMP = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNKNOWN_KEY = re.compile(r"(?:(32|33)\.)?([0-9]{2})", re.ASCII)


class ElqrError(ValueError):
    """A code we refuse. ``code`` is a stable reason (``checksum_mismatch``); ``message`` says
    what exactly, in English, for operators and logs; ``field`` is the id concerned, if any."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class ElqrCode:
    """One ELQR code, as read or to be built. Text fields are ``None`` when absent."""

    type: Literal["static", "dynamic"]
    provider_id: str
    service_code: str | None = None
    recipient_id: str | None = None
    transaction_id: str | None = None
    amount_editable: bool = True
    recipient_editable: bool = True
    merchant_id: str | None = None
    service_name: str | None = None
    comment: str | None = None
    mcc: str | None = None
    currency: str | None = KGS
    amount: int | None = None  # tyiyn
    name: str | None = None
    # Fields 35-39 as (id, value), in id order; several of one id keep their order.
    extra: tuple[tuple[str, str], ...] = ()
    # Unknown fields as (key, value), key "62" (root) or "32.05" / "33.07" (sub-fields).
    unknown: tuple[tuple[str, str], ...] = ()
    version: str = VERSION
    # The checksum as written in the code (case kept) and the decoded payload as read. They
    # describe one encoding of the code, not the code, so they take no part in equality.
    checksum: str | None = field(default=None, compare=False)
    payload: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        # One canonical order, whatever order the fields came in.
        object.__setattr__(self, "extra", tuple(sorted(self.extra, key=lambda kv: kv[0])))
        object.__setattr__(self, "unknown", tuple(sorted(self.unknown, key=_unknown_order)))

    @property
    def is_static(self) -> bool:
        return self.type == "static"

    @property
    def fixed_amount(self) -> int | None:
        """The amount the payer cannot change (not editable, above 0), or None when the payer
        enters it."""
        if not self.amount_editable and self.amount:
            return self.amount
        return None


def _unknown_order(item: tuple[str, str]) -> tuple[str, str]:
    key = item[0]
    root, _dot, sub = key.partition(".")
    return (root, sub)


# --- reading -----------------------------------------------------------------------------


def parse(text: str) -> ElqrCode:
    """Read a link or a bare payload. Raises ElqrError, and nothing else, for any bad text."""
    payload = _payload_of(text)
    fields = _tlv(payload, where="the payload")
    checksum = _check_checksum(payload, fields)
    _refuse_repeats(fields, where=None, may_repeat=EXTRA_IDS)
    values = {fid: value for fid, value, _start in fields}

    version = values.get("00")
    if not version:
        raise ElqrError("version_missing", "no version (field 00)", "00")
    if version != VERSION:
        raise ElqrError("version_invalid", f"version {version!r}, only {VERSION!r} is known", "00")
    kind = values.get("01")
    if not kind:
        raise ElqrError("type_missing", "no type (field 01: 11 static, 12 dynamic)", "01")
    if kind not in TYPES:
        raise ElqrError("type_invalid", f"type {kind!r}: 11 static or 12 dynamic", "01")

    unknown: list[tuple[str, str]] = []
    payee = _template(values.get("32", ""), "32", PAYEE_IDS, unknown)
    merchant = _template(values.get("33", ""), "33", MERCHANT_IDS, unknown)
    extra: list[tuple[str, str]] = []
    for fid, value, _start in fields:
        if fid in EXTRA_IDS and value:
            extra.append((fid, value))
        elif fid not in ROOT_IDS and fid not in EXTRA_IDS and value:
            unknown.append((fid, value))

    code = ElqrCode(
        version=version,
        type=TYPES[kind],
        provider_id=payee.get("00"),  # type: ignore[arg-type]  # checked by _validate
        service_code=payee.get("01"),
        recipient_id=payee.get("10"),
        transaction_id=payee.get("11"),
        amount_editable=_flag(payee.get("12"), "32.12", "amount editable"),
        recipient_editable=_flag(payee.get("13"), "32.13", "recipient editable"),
        merchant_id=merchant.get("00"),
        service_name=merchant.get("01"),
        comment=values.get("34") or None,
        mcc=values.get("52") or None,
        currency=values.get("53") or None,
        amount=_amount(values.get("54")),
        name=values.get("59") or None,
        extra=tuple(extra),
        unknown=tuple(unknown),
        checksum=checksum,
        payload=payload,
    )
    _validate(code)
    return code


def _payload_of(text: str) -> str:
    """The decoded payload of a link or of a bare payload."""
    text = text.strip()
    if not text:
        raise ElqrError("empty", "no code given")
    if len(text) > MAX_LINK_LENGTH:
        raise ElqrError("too_long", f"{len(text)} characters; a QR code holds far fewer")
    if _SCHEME.match(text):
        if not text.lower().startswith("https:"):
            raise ElqrError("not_elqr", "not an ELQR link: it does not start with https://")
        try:
            parts = urlsplit(text)
        except ValueError as exc:  # e.g. a broken [IPv6] host
            raise ElqrError("not_elqr", f"not an ELQR link: {exc}") from None
        if not parts.netloc:
            raise ElqrError("not_elqr", "not an ELQR link: no host")
        if not parts.fragment:
            raise ElqrError("not_elqr", "not an ELQR link: nothing after #")
        encoded = parts.fragment
    elif text[:4].isascii() and text[:4].isdigit():
        encoded = text
    else:
        raise ElqrError("not_a_link", "neither a link nor an ELQR payload")
    try:
        payload = unquote_plus(encoded, errors="strict")
    except UnicodeDecodeError:
        raise ElqrError("bad_encoding", "the percent-encoding is not valid UTF-8") from None
    if _SURROGATE.search(payload):
        raise ElqrError("bad_encoding", "the text holds a lone UTF-16 surrogate")
    if match := _NOT_BMP.search(payload):
        raise ElqrError(
            "outside_bmp",
            f"character U+{ord(match.group()):X} is outside the Basic Multilingual Plane",
        )
    if not (payload[:4].isascii() and payload[:4].isdigit()):
        raise ElqrError("not_elqr", "not an ELQR payload: it does not start with an id and length")
    return payload


def _tlv(text: str, *, where: str) -> list[tuple[str, str, int]]:
    """Split TLV text into (id, value, start offset) triples, in their order."""
    fields = []
    i, end_of_text = 0, len(text)
    while i < end_of_text:
        head = text[i : i + 4]
        if len(head) < 4:
            raise ElqrError(
                "tlv_truncated", f"{where} ends inside a field header at character {i}: {head!r}"
            )
        if not (head.isascii() and head.isdigit()):
            raise ElqrError(
                "tlv_malformed", f"{where}: {head!r} at character {i} is not an id and a length"
            )
        fid, length = head[:2], int(head[2:])
        end = i + 4 + length
        if end > end_of_text:
            raise ElqrError(
                "tlv_overrun",
                f"{where}: field {fid} says {length} characters, only {end_of_text - i - 4} remain",
                fid,
            )
        fields.append((fid, text[i + 4 : end], i))
        i = end
    return fields


def _refuse_repeats(fields, *, where: str | None, may_repeat=frozenset()) -> None:
    seen = set()
    for fid, _value, _start in fields:
        if fid in seen and fid not in may_repeat:
            name = f"{where}.{fid}" if where else fid
            raise ElqrError("repeated_field", f"field {name} appears more than once", name)
        seen.add(fid)


def _check_checksum(payload: str, fields) -> str:
    positions = [n for n, (fid, _v, _s) in enumerate(fields) if fid == "63"]
    if not positions:
        raise ElqrError("checksum_missing", "no checksum (field 63)", "63")
    if len(positions) > 1:
        raise ElqrError("repeated_field", "field 63 appears more than once", "63")
    (position,) = positions
    if position != len(fields) - 1:
        raise ElqrError("checksum_not_last", "the checksum (field 63) is not the last field", "63")
    _fid, written, start = fields[position]
    if not _HEX4.fullmatch(written):
        raise ElqrError(
            "checksum_invalid", f"checksum {written!r} is not 4 hexadecimal characters", "63"
        )
    expected = checksum_of(payload[:start])
    if written.lower() != expected:
        raise ElqrError(
            "checksum_mismatch",
            f"the code says {written}, its content gives {expected}",
            "63",
        )
    return written


def _template(value: str, fid: str, known: set[str], unknown: list) -> dict[str, str]:
    sub_fields = _tlv(value, where=f"field {fid}")
    _refuse_repeats(sub_fields, where=fid)
    out = {}
    for sub, sub_value, _start in sub_fields:
        if not sub_value:
            continue
        if sub in known:
            out[sub] = sub_value
        else:
            unknown.append((f"{fid}.{sub}", sub_value))
    return out


def _flag(value: str | None, fid: str, what: str) -> bool:
    if value is None:
        return True
    if value not in FLAGS:
        raise ElqrError("flag_invalid", f"{what} ({fid}) is {value!r}: 11 yes or 12 no", fid)
    return FLAGS[value]


def _amount(value: str | None) -> int | None:
    if not value:
        return None
    if not _DIGITS.fullmatch(value) or len(value) > MAX_AMOUNT_DIGITS:
        raise ElqrError("amount_invalid", f"amount {value!r} is not a whole number of tyiyn", "54")
    return int(value)


# --- rules shared by the parser and the builder -------------------------------------------

_LIMITS = (
    # (attribute, field, what, at most)
    ("provider_id", "32.00", "provider id", 32),
    ("service_code", "32.01", "service code", 99),
    ("recipient_id", "32.10", "recipient id", 32),
    ("transaction_id", "32.11", "transaction id", 32),
    ("merchant_id", "33.00", "merchant id", 99),
    ("service_name", "33.01", "service name", 99),
    ("comment", "34", "comment", 32),
    ("name", "59", "name", 25),
)


def _validate(code: ElqrCode) -> None:
    if code.version != VERSION:
        raise ElqrError("version_invalid", f"version {code.version!r}, only {VERSION!r}", "00")
    if code.type not in TYPE_IDS:
        raise ElqrError("type_invalid", f"type {code.type!r}: static or dynamic", "01")
    if not code.provider_id:
        raise ElqrError("payee_missing", "no provider id (field 32, sub-field 00)", "32.00")
    for attribute, fid, what, limit in _LIMITS:
        value = getattr(code, attribute)
        if value is None:
            continue
        _check_text(value, fid, what)
        if len(value) > limit:
            raise ElqrError(
                "field_too_long",
                f"the {what} ({fid}) has {len(value)} characters, at most {limit}",
                fid,
            )
    for attribute in ("amount_editable", "recipient_editable"):
        if not isinstance(getattr(code, attribute), bool):
            raise ElqrError("flag_invalid", f"{attribute} must be True or False")
    if code.mcc is not None and not _MCC.fullmatch(code.mcc):
        raise ElqrError("mcc_invalid", f"MCC {code.mcc!r} is not 4 digits", "52")
    if code.currency is not None and code.currency != KGS:
        raise ElqrError(
            "currency_invalid",
            f"currency {code.currency!r}: only {KGS} (the som) is accepted",
            "53",
        )
    amount = code.amount
    if amount is not None and (
        not isinstance(amount, int)
        or isinstance(amount, bool)
        or amount < 0
        or len(str(amount)) > MAX_AMOUNT_DIGITS
    ):
        raise ElqrError("amount_invalid", f"amount {amount!r} is not a whole number of tyiyn", "54")
    if not amount:
        if code.type == "dynamic":
            raise ElqrError("amount_required", "a dynamic code needs an amount above 0", "54")
        if not code.amount_editable:
            raise ElqrError(
                "amount_required",
                "the amount is not editable, yet there is no amount above 0",
                "54",
            )
    for fid, value in code.extra:
        if fid not in EXTRA_IDS:
            raise ElqrError("field_invalid", f"extra field id {fid!r}: 35 to 39", fid)
        _check_text(value, fid, f"field {fid}")
    for key, value in code.unknown:
        match = _UNKNOWN_KEY.fullmatch(key)
        known = (
            not match
            or (match.group(1) is None and (key in ROOT_IDS or key in EXTRA_IDS))
            or (match.group(1) == "32" and match.group(2) in PAYEE_IDS)
            or (match.group(1) == "33" and match.group(2) in MERCHANT_IDS)
        )
        if known:
            raise ElqrError("field_invalid", f"{key!r} is not an unknown field id", key)
        _check_text(value, key, f"field {key}")
    keys = [key for key, _value in code.unknown]
    if len(keys) != len(set(keys)):
        raise ElqrError("repeated_field", "an unknown field appears more than once")


def _check_text(value, fid: str, what: str) -> None:
    if not isinstance(value, str):
        raise ElqrError("field_invalid", f"the {what} ({fid}) is not text", fid)
    if not value:
        raise ElqrError("field_empty", f"the {what} ({fid}) is empty; leave it out instead", fid)
    if _SURROGATE.search(value):
        raise ElqrError("bad_encoding", f"the {what} ({fid}) holds a lone surrogate", fid)
    if _NOT_BMP.search(value):
        raise ElqrError(
            "outside_bmp",
            f"the {what} ({fid}) has a character outside the Basic Multilingual Plane",
            fid,
        )
    if len(value) > 99:
        raise ElqrError(
            "field_too_long", f"the {what} ({fid}) has {len(value)} characters, at most 99", fid
        )


# --- writing -----------------------------------------------------------------------------


def checksum_of(text: str) -> str:
    """The ELQR checksum of the decoded payload text before ``6304``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[-4:]


def build_payload(code: ElqrCode) -> str:
    """The canonical decoded payload of a code (what the checksum covers, plus field 63)."""
    _validate(code)
    unknown: dict[str, list[tuple[str, str]]] = {"": [], "32": [], "33": []}
    for key, value in code.unknown:
        root, _dot, sub = key.rpartition(".")
        unknown[root].append((sub, value))

    payee = [
        ("00", code.provider_id),
        ("01", code.service_code),
        ("10", code.recipient_id),
        ("11", code.transaction_id),
        ("12", "11" if code.amount_editable else "12"),
        ("13", "11" if code.recipient_editable else "12"),
        *unknown["32"],
    ]
    merchant = [("00", code.merchant_id), ("01", code.service_name), *unknown["33"]]
    root = [
        ("00", code.version),
        ("01", TYPE_IDS[code.type]),
        ("32", _join(payee, "32")),
        ("33", _join(merchant, "33")),
        ("34", code.comment),
        *code.extra,
        ("52", code.mcc),
        ("53", code.currency),
        ("54", None if code.amount is None else str(code.amount)),
        ("59", code.name),
        *unknown[""],
    ]
    body = _join(root, "")
    return f"{body}6304{checksum_of(body)}"


def build(code: ElqrCode, *, router: str) -> str:
    """The canonical link of a code: ``router#percent-encoded payload``.

    ``router`` is the https address the link opens in a browser (``https://qr.kapchyk.kg/``).
    Raises ElqrError when the code breaks a rule of the standard (the same rules parse applies).
    """
    if not router.lower().startswith("https://") or "#" in router:
        raise ValueError(f"the router must be an https:// address without '#': {router!r}")
    return f"{router}#{quote(build_payload(code), safe='')}"


def _join(fields: list[tuple[str, str | None]], where: str) -> str:
    out = []
    # A stable sort: repeated 35-39 fields keep the order they were given in.
    for fid, value in sorted(fields, key=lambda kv: kv[0]):
        if value is None or value == "":
            continue
        if len(value) > 99:
            name = f"field {where}" if where else f"field {fid}"
            raise ElqrError(
                "field_too_long",
                f"{name} would have {len(value)} characters, at most 99",
                where or fid,
            )
        out.append(f"{fid}{len(value):02d}{value}")
    return "".join(out)


def replace(code: ElqrCode, **changes) -> ElqrCode:
    """A copy of a code with some fields changed (its checksum and payload dropped)."""
    return dataclasses.replace(code, checksum=None, payload=None, **changes)
