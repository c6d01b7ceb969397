"""Property-based tests of the ELQR codec: round trips of arbitrary valid codes, and parse
fed anything at all raises ElqrError or nothing."""

import random
from urllib.parse import quote

from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from qr import elqr
from qr.elqr import ElqrCode, ElqrError
from tests.qr.helpers import seal, tlv

ROUTER = "https://qr.kapchyk.kg/"

# Any BMP character but lone surrogates: Cyrillic, '%', '+', '#', spaces, controls, CJK...
BMP = st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",))
TRICKY = st.sampled_from(list("%+#&= :*\"'\n\t0123456789АБВгдеЁёӨөҮүҢң€ "))
CHARS = st.one_of(BMP, TRICKY)


def text(max_size):
    return st.text(CHARS, min_size=1, max_size=max_size)


def optional(strategy):
    return st.none() | strategy


@st.composite
def codes(draw):
    kind = draw(st.sampled_from(["static", "dynamic"]))
    amount_editable = draw(st.booleans())
    if kind == "dynamic" or not amount_editable:
        amount = draw(st.integers(min_value=1, max_value=10**13 - 1))
    else:
        amount = draw(st.none() | st.integers(min_value=0, max_value=10**13 - 1))
    # Template 32 holds 99 characters: the four texts share 75 of them (the flags take 12).
    provider_id = draw(text(32))
    room = 75 - len(provider_id)
    sub_texts = {}
    for attribute, limit in (
        ("recipient_id", 32),
        ("transaction_id", 32),
        ("service_code", 99),
    ):
        value = draw(optional(text(min(limit, room - 4)))) if room > 4 else None
        if value is not None:
            room -= len(value) + 4
        sub_texts[attribute] = value
    merchant_id = draw(optional(text(40)))
    service_name = draw(optional(text(40)))
    extra = draw(
        st.lists(st.tuples(st.sampled_from(["35", "36", "37", "38", "39"]), text(20)), max_size=4)
    )
    unknown_keys = draw(
        st.lists(
            st.sampled_from(["02", "27", "40", "51", "62", "64", "99", "32.05", "32.99", "33.02"]),
            unique=True,
            max_size=3,
        )
    )
    unknown = [(key, draw(text(20))) for key in unknown_keys]
    if any(key.startswith("32.") for key in unknown_keys):
        # Keep template 32 within 99 characters with its unknown sub-fields.
        assume(room >= sum(len(v) + 4 for k, v in unknown if k.startswith("32.")))
    return ElqrCode(
        type=kind,
        provider_id=provider_id,
        amount_editable=amount_editable,
        recipient_editable=draw(st.booleans()),
        merchant_id=merchant_id,
        service_name=service_name,
        comment=draw(optional(text(32))),
        mcc=draw(optional(st.from_regex(r"[0-9]{4}", fullmatch=True))),
        currency=draw(st.sampled_from(["417", None])),
        amount=amount,
        name=draw(optional(text(25))),
        extra=tuple(extra),
        unknown=tuple(unknown),
        **sub_texts,
    )


@given(codes())
@settings(max_examples=200, suppress_health_check=[HealthCheck.filter_too_much])
def test_parse_reads_back_what_build_wrote(code):
    built = elqr.build(code, router=ROUTER)
    assert built.isascii()
    parsed = elqr.parse(built)
    assert parsed == code
    assert parsed.checksum == parsed.checksum.lower()
    # ...and the canonical link is a fixed point.
    assert elqr.build(parsed, router=ROUTER) == built


@st.composite
def shuffled_links(draw):
    """A valid code written the way a careless producer would: fields and sub-fields in any
    order, the checksum in either case, '+' for spaces, '+' itself encoded."""
    code = draw(codes())
    canonical = elqr.build_payload(code)
    rng = random.Random(draw(st.integers()))
    root = _split(canonical[:-8])
    for n, (fid, value) in enumerate(root):
        if fid in ("32", "33"):
            subs = _split(value)
            rng.shuffle(subs)
            root[n] = (fid, "".join(tlv(s, v) for s, v in subs))
    # Repeated 35-39 fields keep their relative order; everything else moves freely.
    order = list(range(len(root)))
    rng.shuffle(order)
    extras = iter(sorted(i for i in order if root[i][0] in ("35", "36", "37", "38", "39")))
    order = [next(extras) if root[i][0] in ("35", "36", "37", "38", "39") else i for i in order]
    body = "".join(tlv(*root[i]) for i in order)
    text = quote(seal(body, upper=draw(st.booleans())), safe="")
    if draw(st.booleans()):
        text = text.replace("%20", "+")
    router = draw(
        st.sampled_from(
            [
                "https://qr.kapchyk.kg/#",
                "https://pay.payqr.kg#",
                "https://app.mbank.kg/qr/#",
                "https://api.dengi.o.kg/ru/qr/#",
                "",
            ]
        )
    )
    return code, router + text


def _split(text):
    out, i = [], 0
    while i < len(text):
        fid, length = text[i : i + 2], int(text[i + 2 : i + 4])
        out.append((fid, text[i + 4 : i + 4 + length]))
        i += 4 + length
    return out


@given(shuffled_links())
@settings(max_examples=200, suppress_health_check=[HealthCheck.filter_too_much])
def test_any_order_and_spelling_reads_the_same_and_builds_canonical(case):
    code, text = case
    parsed = elqr.parse(text)
    assert parsed == code
    canonical = elqr.build(parsed, router=ROUTER)
    assert canonical == elqr.build(code, router=ROUTER)
    assert elqr.build(elqr.parse(canonical), router=ROUTER) == canonical


@given(st.text())
@example("https://[::1/#000201")
@example("000201" + "%" * 10)
@example("https://x/#0099")
@settings(max_examples=300)
def test_parse_of_any_text_raises_only_elqr_error(text):
    _parse_or_refuse(text)


SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])


@given(st.text(st.one_of(st.characters(), SURROGATES)))
def test_parse_of_text_with_surrogates_raises_only_elqr_error(text):
    _parse_or_refuse(text)
    _parse_or_refuse("000201" + text)


@given(codes(), st.data())
@settings(max_examples=200, suppress_health_check=[HealthCheck.filter_too_much])
def test_parse_of_damaged_codes_raises_only_elqr_error(code, data):
    text = elqr.build(code, router=ROUTER)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        how = data.draw(st.sampled_from(["cut", "drop", "insert", "replace"]))
        char = data.draw(st.sampled_from(list("0123456789%+#aZф")))
        if how == "cut":
            text = text[:at]
        elif how == "drop":
            text = text[:at] + text[at + 1 :]
        elif how == "insert":
            text = text[:at] + char + text[at:]
        else:
            text = text[:at] + char + text[at + 1 :]
    _parse_or_refuse(text)


@st.composite
def sealed_tlv(draw):
    """Structurally sound payloads with a right checksum and fields that are mostly, not
    always, right: the checks of meaning get exercised, not only the checks of structure."""

    def mostly(good, *bad):
        return draw(st.sampled_from([good] * 8 + list(bad)))

    def sub_template(sub_ids):
        subs = draw(st.lists(st.sampled_from(sub_ids), unique=True, max_size=len(sub_ids)))
        subs = draw(st.permutations(["00", *subs] if "00" not in subs else subs))
        values = {
            "12": st.sampled_from(["11", "12", "13", ""]),
            "13": st.sampled_from(["11", "12", "1"]),
        }
        return "".join(
            tlv(sub, draw(values.get(sub, st.text(CHARS, max_size=33)))) for sub in subs
        )[:99]

    fields = {
        "00": mostly("01", "02", "", "1"),
        "01": mostly("11", "12", "13", ""),
        "32": sub_template(["00", "01", "10", "11", "12", "13", "05"]),
        "33": sub_template(["00", "01", "02"]),
        "34": draw(st.text(CHARS, max_size=34)),
        "35": draw(st.text(CHARS, max_size=10)),
        "52": mostly("5812", "581", "58a2", ""),
        "53": mostly("417", "840", "", "0417"),
        "54": draw(st.sampled_from(["0", "1", "45000", "", "-1", "1.5", "0100", "9" * 14])),
        "59": draw(st.text(CHARS, max_size=26)),
        "62": draw(st.text(CHARS, max_size=10)),
    }
    core = ["00", "01", "32"]
    core = draw(st.sampled_from([core] * 6 + [core[1:], core[::2], core[:2]]))
    others = st.sampled_from([fid for fid in sorted(fields) if fid not in core])
    keep = core + draw(st.lists(others, unique=True))
    if draw(st.booleans()):
        keep.append("35")  # a repeat that is allowed
    if draw(st.sampled_from([False] * 9 + [True])):
        keep.append(draw(st.sampled_from(sorted(fields))))  # maybe one that is not
    body = "".join(tlv(fid, fields[fid]) for fid in draw(st.permutations(keep)))
    return "https://x.kg/#" + quote(seal(body), safe="")


@given(sealed_tlv())
@settings(max_examples=300)
def test_parse_of_sealed_arbitrary_fields_raises_only_elqr_error(text):
    try:
        code = elqr.parse(text)
    except ElqrError as exc:
        event(exc.code)
        return
    event("accepted")
    # Whatever parse accepts, build accepts and reads back the same.
    assert elqr.parse(elqr.build(code, router=ROUTER)) == code


def _parse_or_refuse(text):
    try:
        elqr.parse(text)
    except ElqrError as exc:
        assert exc.code and exc.message
