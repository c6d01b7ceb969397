"""The OSMP protocol on both sides: our client's reading of answers, and the reference
provider (idempotent on txn_id, its registry, its faults)."""

import argparse
import urllib.parse
import urllib.request
from decimal import Decimal

import pytest

from providers import gateways as g
from providers.reference import ReferenceProvider, parse_fault
from tests.factories import ProviderFactory


def get(server, **params):
    url = f"{server.url}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def test_parse_answer_reads_the_fields():
    answer = g.parse_answer(
        b"<?xml version='1.0' encoding='UTF-8'?><response><osmp_txn_id>7</osmp_txn_id>"
        b"<prv_txn>42</prv_txn><sum>10.00</sum><result>0</result><comment>OK</comment>"
        b"<fields><field1 name='fio'>\xd0\x90\xd1\x81\xd0\xb0\xd0\xbd\xd0\xbe\xd0\xb2 \xd0\x91.</field1>"
        b"<field2 name='balance'>-120.00</field2></fields></response>"
    )
    assert (answer.result, answer.prv_txn, answer.osmp_txn_id, answer.sum_text) == (
        0,
        "42",
        "7",
        "10.00",
    )
    assert answer.fields == {"fio": "Асанов Б.", "balance": "-120.00"}
    assert answer.holder == "Асанов Б."


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<response><result>0</resu",
        b"<answer><result>0</result></answer>",
        b"<response><result>OK</result></response>",
        b"<response><comment>no result</comment></response>",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><response><result>&a;</result></response>',
    ],
)
def test_unreadable_answers(body):
    with pytest.raises(g.Unreadable):
        g.parse_answer(body)


def test_sum_and_date_formats():
    assert g.som_text(12345) == "123.45" and g.som_text(5) == "0.05"
    assert g.parse_sum("123.45") == 12345 and g.parse_sum("1,5") == 150
    assert g.parse_sum("1.005") is None and g.parse_sum("abc") is None and g.parse_sum("-1") is None


@pytest.mark.django_db
def test_check_and_pay_outcomes(reference):
    provider = ProviderFactory(gateway="osmp", endpoint_url=reference.url, timeout=Decimal("1"))
    osmp = g.OsmpGateway()
    ok = osmp.check(provider, account="0012345", amount=100_00)
    assert (ok.status, ok.code, ok.holder) == (g.Status.SUCCEEDED, 0, "ОсОО «Ала-Тоо Софт»")
    assert ok.fields == {"name": "ОсОО «Ала-Тоо Софт»"}
    for account, code in (("abc", 4), ("0099999", 5), ("0054321", 79), ("0077777", 7)):
        refused = osmp.check(provider, account=account, amount=100_00)
        assert (refused.status, refused.code) == (g.Status.FAILED, code)
    reference.fault("result", command="check", code=90, times=1)
    assert osmp.check(provider, account="0012345", amount=1_00).status == g.Status.RETRY
    reference.fault("result", command="check", code=555, times=1)  # a code we do not know
    unknown = osmp.check(provider, account="0012345", amount=1_00)
    assert (unknown.status, unknown.message) == (
        g.Status.FAILED,
        "result 555: unknown result (fault)",
    )
    assert g.InternalGateway().check(provider, account="x", amount=1).ok


@pytest.mark.django_db
def test_no_url_is_a_retry_not_a_crash():
    provider = ProviderFactory(gateway="osmp", endpoint_url="")
    outcome = g.OsmpGateway().check(provider, account="1", amount=1)
    assert (outcome.status, outcome.message) == (
        g.Status.RETRY,
        "no http(s) endpoint URL set for the provider",
    )
    provider.endpoint_url = "file:///etc/passwd"
    assert g.OsmpGateway().check(provider, account="1", amount=1).status == g.Status.RETRY


def test_reference_replays_its_first_answer(reference):
    pay = {
        "command": "pay",
        "txn_id": "77",
        "txn_date": "20261124101500",
        "account": "0012345",
        "sum": "10.00",
    }
    first = get(reference, **pay)
    assert b"<result>0</result>" in first and b"<prv_txn>1</prv_txn>" in first
    assert get(reference, **pay) == first
    assert get(reference, **{**pay, "sum": "99.00"}) == first  # the first answer, whatever comes
    assert len(reference.payments()) == 1
    refused = dict(pay, txn_id="78", account="0054321")
    assert b"<result>79</result>" in get(reference, **refused)
    reference.add_account("0054321", "ОсОО «Старый Сайт»", True)
    assert b"<result>79</result>" in get(reference, **refused)  # final answers replay too
    unfinished = dict(pay, txn_id="79", account="0090090")
    assert b"<result>90</result>" in get(reference, **unfinished)
    reference.add_account("0090090", "ОсОО «Вечный Процесс»", True)
    assert b"<result>0</result>" in get(reference, **unfinished)  # 90 was not final
    assert reference.registry_csv("2026-11-24") == (
        "txn_id,datetime,account,amount,payment_code\n"
        "77,2026-11-24 10:15:00,0012345,10.00,\n"
        "79,2026-11-24 10:15:00,0090090,10.00,\n"
    )
    assert reference.registry_csv("2026-11-23") == "txn_id,datetime,account,amount,payment_code\n"


def test_reference_refuses_bad_requests(reference):
    assert b"<result>300</result>" in get(
        reference, command="pay", txn_id="x1", account="0012345", sum="1.00"
    )
    assert b"<result>300</result>" in get(
        reference, command="pay", txn_id="1", account="0012345", sum="1"
    )
    assert b"<result>300</result>" in get(
        reference, command="pay", txn_id="1", account="0012345", sum="1.00"
    )
    assert b"<result>300</result>" in get(reference, command="refund", txn_id="1")
    assert reference.payments() == []


def test_reference_keeps_its_ledger_in_a_file(tmp_path):
    db = str(tmp_path / "ref.sqlite3")
    server = ReferenceProvider(db=db).start()
    pay = {
        "command": "pay",
        "txn_id": "5",
        "txn_date": "20261124101500",
        "account": "0012345",
        "sum": "10.00",
    }
    first = get(server, **pay)
    server.close()
    server = ReferenceProvider(db=db).start()
    try:
        assert get(server, **pay) == first
        assert len(server.payments()) == 1
    finally:
        server.close()


def test_fault_flags():
    assert parse_fault("http500").mode == "http500" and parse_fault("http500").times is None
    assert parse_fault("slow:2").times == 2
    fault = parse_fault("result:90")
    assert (fault.code, fault.times) == (90, None)
    fault = parse_fault("result:1:3")
    assert (fault.code, fault.times) == (1, 3)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_fault("explode")
    with pytest.raises(ValueError, match="unknown fault"):
        ReferenceProvider.fault(None, "explode")


@pytest.mark.django_db
def test_a_redirect_is_not_followed(reference):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(302)
            self.send_header("Location", reference.url + "?" + self.path.split("?", 1)[1])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        provider = ProviderFactory(
            gateway="osmp", endpoint_url=f"http://127.0.0.1:{server.server_port}/osmp"
        )
        outcome = g.OsmpGateway().check(provider, account="0012345", amount=1_00)
        assert (outcome.status, outcome.message) == (g.Status.RETRY, "HTTP 302")
        assert reference.requests == []
    finally:
        server.shutdown()
        server.server_close()


# --- hostile answers: nothing in them is expanded or fetched, whatever the encoding ---

ENTITY = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "0">]><response><result>&a;</result></response>'
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    + "]><response><result>0</result><comment>&lol9;</comment></response>"
)


class Collector:
    """A local HTTP server: the place an external entity would be fetched from."""

    def __init__(self, body=b"0"):
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                seen.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_body_with_entities_is_unreadable(encoding):
    body = ENTITY.encode(encoding)
    if encoding != "utf-16":
        body = ("\ufeff" + ENTITY).encode(encoding)  # the BOM tells the parser the encoding
    assert b"<!DOCTYPE" not in body.upper()  # what the old guard looked for
    with pytest.raises(g.Unreadable):
        g.parse_answer(body)


def test_a_plain_utf16_answer_is_read():
    body = "<?xml version='1.0' encoding='UTF-16'?><response><result>0</result></response>"
    assert g.parse_answer(body.encode("utf-16")).result == 0


def test_billion_laughs_is_refused_not_expanded():
    for body in (
        LAUGHS.encode(),
        LAUGHS.replace('"1.0"?>', '"1.0" encoding="UTF-16"?>', 1).encode("utf-16"),
    ):
        with pytest.raises(g.Unreadable):
            g.parse_answer(body)


def test_external_entities_are_never_fetched():
    collector = Collector()
    try:
        for reference in (collector.url + "ent", "file:///etc/hostname"):
            text = (
                f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY x SYSTEM "{reference}">]>'
                "<response><result>0</result><comment>&x;</comment></response>"
            )
            with pytest.raises(g.Unreadable):
                g.parse_answer(text.encode("utf-16"))
            dtd = f'<?xml version="1.0"?><!DOCTYPE response SYSTEM "{reference}"><response><result>0</result></response>'
            with pytest.raises(g.Unreadable):
                g.parse_answer(dtd.encode("utf-16"))
    finally:
        collector.close()
    assert collector.seen == []


def test_non_ascii_digits_in_the_result_are_unreadable():
    with pytest.raises(g.Unreadable):
        g.parse_answer("<response><result>٠</result></response>".encode())


@pytest.mark.django_db
def test_a_hostile_answer_over_http_is_a_retry():
    collector = Collector(body=ENTITY.encode("utf-16"))
    try:
        provider = ProviderFactory(gateway="osmp", endpoint_url=collector.url + "osmp")
        outcome = g.OsmpGateway().check(provider, account="0012345", amount=1_00)
    finally:
        collector.close()
    assert outcome.status == g.Status.RETRY
    assert outcome.message == "unreadable answer: refused XML: DTDForbidden"
