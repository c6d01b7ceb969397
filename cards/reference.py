"""A reference acquirer — the bank that processes cards, in a box.

It knows nothing of Django or of Kapchyk's database: its own test cards, holds, charges and
refunds live in SQLite (in memory unless a file is given). The protocol is JSON over HTTP:

    POST /api/hold    {"key", "card": {"number", "exp_month", "exp_year", "cvv", "name"},
                       "amount"}           → {"result": "approved", "token", "reference"}
    POST /api/void    {"key"}              (the hold's key)
    POST /api/charge  {"key", "token", "amount"}
    POST /api/refund  {"key"}              (the charge's key)
    GET  /api/status?key=...               → the operation made under that key, if any

Every answer is `{"result": "approved" | "declined" | "unknown" | "not_found", "reason",
...}`. Every call is idempotent on its key: a repeated one gets the first one's answer and
never holds or charges twice.

The card holder's «bank side»: `GET /bank/` asks for a card number, `/bank/statement` lists
the card's authorizations (a mini-statement, as an ATM prints it) and the SMS the bank sent
about them — where a person trying the demo reads the held amount.

Test cards (TEST_CARDS): an Elcart card 9417…, a Visa and a Mastercard test number, a card
with no money, an expired card and a card whose bank never answers («unknown»).

Misbehaviour for tests: `fault(mode, times=None, op="any", delay=2.0)` — "slow" (process,
answer after `delay` s), "http500", "garbage" (not JSON), "decline" (refuse without
processing), "drop" (process, then close the connection without an answer).

Run it: `manage.py reference_acquirer --port 8310` (or `python -m cards.reference`).
"""

import argparse
import html
import json
import secrets
import sqlite3
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# number, holder's balance (tyiyn), behaviour ("" | "expired" | "silent"), what it is
TEST_CARDS = [
    ("9417010000000014", 50_000_00, "", "Элкарт"),
    ("4111111111111111", 50_000_00, "", "Visa"),
    ("5555555555554444", 50_000_00, "", "Mastercard"),
    ("4000000000009995", 0, "", "Visa, no money"),
    ("4000000000000069", 50_000_00, "expired", "Visa, expired"),
    ("4000000000000119", 50_000_00, "silent", "Visa, the bank never answers"),
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS cards (
    number TEXT PRIMARY KEY, balance INTEGER NOT NULL, behaviour TEXT NOT NULL,
    label TEXT NOT NULL, token TEXT UNIQUE
);
CREATE TABLE IF NOT EXISTS operations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
    number TEXT NOT NULL, amount INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,
    parent TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sms (
    id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT NOT NULL, text TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
"""

FAULTS = ("slow", "http500", "garbage", "decline", "drop")
OPS = ("hold", "void", "charge", "refund", "status")


@dataclass
class Fault:
    mode: str
    times: int | None = None  # None: every request
    op: str = "any"
    delay: float = 2.0


def som(tyiyn: int) -> str:
    return f"{tyiyn // 100},{tyiyn % 100:02d}"


def _digits(value, low, high) -> str | None:
    text = str(value or "")
    if text.isascii() and text.isdigit() and low <= len(text) <= high:
        return text
    return None


class ReferenceAcquirer:
    """The acquirer: `start()` serves in a background thread, `serve_forever()` in this one."""

    def __init__(self, *, host="127.0.0.1", port=0, db=":memory:", cards=TEST_CARDS, quiet=True):
        self.quiet = quiet
        self.lock = threading.RLock()
        self.db = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
        self.db.executescript(SCHEMA)
        for card in cards:
            self.add_card(*card)
        self.faults: list[Fault] = []
        self.requests: list[dict] = []
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.host, self.port = self.server.server_address[:2]
        self._thread = None

    # --- setup and inspection ---

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add_card(self, number, balance, behaviour="", label=""):
        with self.lock:
            self.db.execute(
                "INSERT OR IGNORE INTO cards (number, balance, behaviour, label) "
                "VALUES (?, ?, ?, ?)",
                (number, balance, behaviour, label),
            )

    def fault(self, mode, *, times=None, op="any", delay=2.0):
        if mode not in FAULTS:
            raise ValueError(f"unknown fault {mode!r}; one of {', '.join(FAULTS)}")
        with self.lock:
            self.faults.append(Fault(mode, times, op, delay))

    def clear_faults(self):
        with self.lock:
            self.faults.clear()

    def balance(self, number) -> int:
        with self.lock:
            return self.db.execute(
                "SELECT balance FROM cards WHERE number = ?", (number,)
            ).fetchone()[0]

    def operations(self, number=None) -> list[dict]:
        """Every operation, oldest first (one card's when `number` is given)."""
        query = "SELECT id, key, kind, number, amount, state, reason, parent, created_at FROM operations"
        args = ()
        if number:
            query, args = query + " WHERE number = ?", (number,)
        with self.lock:
            rows = self.db.execute(query + " ORDER BY id", args).fetchall()
        keys = ("id", "key", "kind", "number", "amount", "state", "reason", "parent", "created_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def operation(self, key) -> dict | None:
        return next((op for op in self.operations() if op["key"] == key), None)

    def held_amount(self, number) -> int | None:
        """The amount of the card's latest active hold (what the bank's statement shows)."""
        holds = [o for o in self.operations(number) if o["kind"] == "hold" and o["state"] == "held"]
        return holds[-1]["amount"] if holds else None

    def sms(self, number) -> list[str]:
        with self.lock:
            rows = self.db.execute(
                "SELECT text FROM sms WHERE number = ? ORDER BY id", (number,)
            ).fetchall()
        return [row[0] for row in rows]

    # --- running ---

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self):
        self.server.serve_forever()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def close(self):
        self.stop()
        self.db.close()

    # --- the protocol ---

    def _take_fault(self, op) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.op in (op, "any"):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def _card(self, number):
        return self.db.execute(
            "SELECT number, balance, behaviour, label, token FROM cards WHERE number = ?", (number,)
        ).fetchone()

    def _by_token(self, token):
        return self.db.execute(
            "SELECT number, balance, behaviour, label, token FROM cards WHERE token = ?",
            (str(token or ""),),
        ).fetchone()

    def _answer_of(self, row) -> dict:
        _id, key, kind, number, amount, state, reason, _parent, _at = row
        result = {"held": "approved", "voided": "approved", "charged": "approved"}.get(state)
        result = result or {"refunded": "approved", "declined": "declined"}.get(state, "unknown")
        answer = {"result": result, "key": key, "kind": kind, "state": state, "amount": amount}
        answer["reference"] = f"R{_id:08d}"
        if reason:
            answer["reason"] = reason
        if kind == "hold" and result == "approved":
            token = self.db.execute(
                "SELECT token FROM cards WHERE number = ?", (number,)
            ).fetchone()
            answer["token"] = token[0] if token else ""
        return answer

    def _existing(self, key):
        return self.db.execute(
            "SELECT id, key, kind, number, amount, state, reason, parent, created_at "
            "FROM operations WHERE key = ?",
            (key,),
        ).fetchone()

    def _record(self, key, kind, number, amount, state, reason="", parent="") -> dict:
        self.db.execute(
            "INSERT INTO operations (key, kind, number, amount, state, reason, parent, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (key, kind, number, amount, state, reason, parent, _now()),
        )
        return self._answer_of(self._existing(key))

    def _sms(self, number, text):
        self.db.execute(
            "INSERT INTO sms (number, text, sent_at) VALUES (?, ?, ?)", (number, text, _now())
        )

    def handle(self, op, data) -> dict:
        """The answer to one request (a dict: the JSON body)."""
        key = str(data.get("key") or "")
        if not key or len(key) > 100:
            return {"result": "declined", "reason": "bad_request"}
        with self.lock:
            if op == "status":
                row = self._existing(key)
                return self._answer_of(row) if row else {"result": "not_found", "key": key}
            row = self._existing(key)
            if row:  # idempotent: the first answer again
                return self._answer_of(row)
            return getattr(self, f"_{op}")(key, data)

    def _hold(self, key, data):
        card = data.get("card") if isinstance(data.get("card"), dict) else {}
        number = _digits(card.get("number"), 12, 19)
        amount = data.get("amount")
        if number is None or not isinstance(amount, int) or not 0 < amount <= 10_000_000_00:
            return {"result": "declined", "reason": "bad_request"}
        row = self._card(number)
        if row is None:
            return {"result": "declined", "reason": "unknown_card"}
        _number, balance, behaviour, _label, token = row
        if behaviour == "silent":
            return {"result": "unknown", "reason": "issuer_unavailable"}
        if self.db.execute(
            "SELECT 1 FROM operations WHERE kind = 'void' AND parent = ?", (key,)
        ).fetchone():
            return self._record(key, "hold", number, amount, "declined", "voided")
        if behaviour == "expired":
            return self._record(key, "hold", number, amount, "declined", "expired_card")
        if not _digits(card.get("cvv"), 3, 3):
            return self._record(key, "hold", number, amount, "declined", "bad_cvv")
        if balance < amount:
            return self._record(key, "hold", number, amount, "declined", "insufficient_funds")
        if not token:
            self.db.execute(
                "UPDATE cards SET token = ? WHERE number = ?",
                ("tok_" + secrets.token_hex(12), number),
            )
        self.db.execute("UPDATE cards SET balance = balance - ? WHERE number = ?", (amount, number))
        self._sms(number, f"Blokirovka {som(amount)} KGS. Kapchyk. *{number[-4:]}")
        return self._record(key, "hold", number, amount, "held")

    def _void(self, key, data):
        hold = self._existing(str(data.get("hold") or ""))
        if hold is None:
            # Nothing was held under that key (or never will be: the key is now spent).
            return self._record(key, "void", "", 0, "voided", "nothing_held", str(data.get("hold")))
        if hold[2] != "hold":
            return {"result": "declined", "reason": "not_a_hold"}
        if hold[5] == "held":
            self.db.execute("UPDATE operations SET state = 'voided' WHERE id = ?", (hold[0],))
            self.db.execute(
                "UPDATE cards SET balance = balance + ? WHERE number = ?", (hold[4], hold[3])
            )
            self._sms(hold[3], f"Otmena blokirovki {som(hold[4])} KGS. Kapchyk. *{hold[3][-4:]}")
        return self._record(key, "void", hold[3], hold[4], "voided", "", hold[1])

    def _charge(self, key, data):
        amount = data.get("amount")
        row = self._by_token(data.get("token"))
        if row is None or not isinstance(amount, int) or not 0 < amount <= 10_000_000_00:
            return {"result": "declined", "reason": "bad_request" if row else "unknown_card"}
        number, balance, behaviour, _label, _token = row
        if behaviour == "silent":
            return {"result": "unknown", "reason": "issuer_unavailable"}
        if balance < amount:
            return self._record(key, "charge", number, amount, "declined", "insufficient_funds")
        self.db.execute("UPDATE cards SET balance = balance - ? WHERE number = ?", (amount, number))
        self._sms(number, f"Oplata {som(amount)} KGS. Kapchyk. *{number[-4:]}")
        return self._record(key, "charge", number, amount, "charged")

    def _refund(self, key, data):
        charge = self._existing(str(data.get("charge") or ""))
        if charge is None or charge[2] != "charge" or charge[5] not in ("charged", "refunded"):
            return {"result": "declined", "reason": "nothing_to_refund"}
        if charge[5] == "charged":
            self.db.execute("UPDATE operations SET state = 'refunded' WHERE id = ?", (charge[0],))
            self.db.execute(
                "UPDATE cards SET balance = balance + ? WHERE number = ?", (charge[4], charge[3])
            )
        return self._record(key, "refund", charge[3], charge[4], "refunded", "", charge[1])

    # --- the bank side ---

    def statement_html(self, number) -> str:
        row = self._card(number) if number else None
        parts = [
            "<!doctype html><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width'>"
            "<title>Bank: mini-statement</title><h1>Mini-statement / Мини-выписка</h1>",
            "<form method=post action=/bank/statement><label>Card number "
            "<input name=number inputmode=numeric autocomplete=off></label> "
            "<button>Show</button></form>",
        ]
        if number and row is None:
            parts.append("<p>No such card.</p>")
        if row:
            parts.append(
                f"<h2>*{html.escape(number[-4:])} — {html.escape(row[3])}</h2>"
                f"<p>Available: <b class=available>{som(row[1])} KGS</b></p>"
                "<h3>Authorizations / Авторизации</h3><table border=1>"
                "<tr><th>Date</th><th>Operation</th><th>Amount</th><th>State</th></tr>"
            )
            for op in reversed(self.operations(number)):
                if op["kind"] in ("hold", "charge"):
                    parts.append(
                        f"<tr><td>{html.escape(op['created_at'])}</td><td>{op['kind']}</td>"
                        f"<td class=amount>{som(op['amount'])} KGS</td><td>{op['state']}</td></tr>"
                    )
            parts.append("</table><h3>SMS</h3><ul>")
            parts += [f"<li>{html.escape(text)}</li>" for text in reversed(self.sms(number))]
            parts.append("</ul>")
        return "".join(parts)

    def _handler_class(self):
        acquirer = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "ReferenceAcquirer/1.0"
            protocol_version = "HTTP/1.0"

            def log_message(self, format, *args):  # noqa: A002 - the base class's name
                if not acquirer.quiet:
                    super().log_message(format, *args)

            def send(self, status, body: bytes, content_type="application/json"):
                with suppress(OSError):
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def _body(self) -> dict:
                length = min(int(self.headers.get("Content-Length") or 0), 64 * 1024)
                raw = self.rfile.read(length) if length else b""
                return raw

            def do_GET(self):  # noqa: N802 - the base class's name
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path in ("/", "/bank", "/bank/", "/bank/statement"):
                    number = _digits(params.get("number"), 12, 19) or ""
                    self.send(
                        200, acquirer.statement_html(number).encode(), "text/html; charset=utf-8"
                    )
                    return
                if parts.path == "/api/status":
                    self.api("status", {"key": params.get("key", "")})
                    return
                self.send(404, b'{"result": "not_found"}')

            def do_POST(self):  # noqa: N802 - the base class's name
                parts = urlsplit(self.path)
                raw = self._body()
                if parts.path == "/bank/statement":
                    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
                    number = _digits(form.get("number", "").replace(" ", ""), 12, 19) or ""
                    self.send(
                        200, acquirer.statement_html(number).encode(), "text/html; charset=utf-8"
                    )
                    return
                op = parts.path.removeprefix("/api/")
                if op not in OPS or op == "status":
                    self.send(404, b'{"result": "not_found"}')
                    return
                try:
                    data = json.loads(raw or b"{}")
                except ValueError:
                    data = None
                if not isinstance(data, dict):
                    self.send(400, b'{"result": "declined", "reason": "bad_request"}')
                    return
                self.api(op, data)

            def api(self, op, data):
                with acquirer.lock:
                    acquirer.requests.append({"op": op, "key": data.get("key")})
                fault = acquirer._take_fault(op)
                if fault and fault.mode == "http500":
                    self.send(500, b"Internal Server Error", "text/plain")
                    return
                if fault and fault.mode == "garbage":
                    self.send(200, b'{"result": "appro')
                    return
                if fault and fault.mode == "decline":
                    self.send(200, b'{"result": "declined", "reason": "do_not_honour"}')
                    return
                answer = acquirer.handle(op, data)
                if fault and fault.mode == "drop":
                    self.close_connection = True
                    with suppress(OSError):
                        self.connection.shutdown(2)
                    return
                if fault and fault.mode == "slow":
                    time.sleep(fault.delay)
                self.send(200, json.dumps(answer).encode())

        return Handler


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def parse_fault(text: str) -> Fault:
    """'http500', 'slow:3' (times), 'drop:1:charge' (times, operation)."""
    mode, *rest = text.split(":")
    if mode not in FAULTS:
        raise argparse.ArgumentTypeError(f"unknown fault {mode!r}; one of {', '.join(FAULTS)}")
    try:
        times = int(rest[0]) if rest and rest[0] else None
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad fault {text!r}") from None
    op = rest[1] if len(rest) > 1 else "any"
    if op not in (*OPS, "any"):
        raise argparse.ArgumentTypeError(f"bad operation in {text!r}")
    return Fault(mode, times, op)


def add_arguments(parser):
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8310)
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument(
        "--fault",
        action="append",
        type=parse_fault,
        default=[],
        help="misbehave: slow|http500|garbage|decline|drop[:TIMES[:OPERATION]]",
    )


def serve(options, write=print) -> None:
    acquirer = ReferenceAcquirer(host=options.host, port=options.port, db=options.db, quiet=False)
    acquirer.faults.extend(options.fault)
    write(f"Reference acquirer on {acquirer.url} (the card holder's bank: {acquirer.url}/bank/)")
    write("Test cards (any CVV of 3 digits, any future expiry):")
    for number, _balance, _behaviour, label in TEST_CARDS:
        write(f"  {' '.join(number[i : i + 4] for i in range(0, len(number), 4))}  {label}")
    write(
        f"To read a held amount: open {acquirer.url}/bank/ and type the card number "
        "(its mini-statement lists the authorizations and the bank's SMS)."
    )
    try:
        acquirer.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        acquirer.server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    serve(parser.parse_args())
