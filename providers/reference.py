"""A reference provider that speaks the OSMP check/pay protocol — a foreign system in a box.

It knows nothing of Django or of Kapchyk's database: it keeps its own accounts and its own
ledger of received payments in SQLite (in memory unless a file is given), answers

    GET /osmp?command=check&txn_id=..&account=..&sum=123.45
    GET /osmp?command=pay&txn_id=..&txn_date=YYYYMMDDHHMMSS&account=..&sum=123.45

with `<response><osmp_txn_id/><prv_txn/><sum/><result/><comment/></response>` (check adds
`<fields><field1 name="name">holder</field1></fields>`), and serves its daily registry

    GET /registry?date=YYYY-MM-DD   → CSV: txn_id,datetime,account,amount,payment_code

It is idempotent on txn_id: a repeated pay gets its first final answer again, byte for byte,
and is never credited twice. Answers 1 and 90 are not final (the next pay is processed anew).

Misbehaviour for tests and demos: `fault(mode, times=None, command="pay", ...)` queues
faults — "slow" (process, then answer after `delay` seconds), "close" (drop the connection
without an answer), "http500", "garbage" (unreadable XML), "result" (answer `code` without
processing, e.g. 1 or 90). Some demo accounts misbehave by themselves (see DEMO_ACCOUNTS).

Run it: `manage.py reference_provider --port 8300` (or `python -m providers.reference`).
"""

import argparse
import base64
import csv
import io
import re
import secrets
import sqlite3
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

# account, holder, active, behaviour ("" | "busy-once" | "unfinished" | "forbidden")
DEMO_ACCOUNTS = [
    ("0012345", "ОсОО «Ала-Тоо Софт»", True, ""),
    ("0023456", "ИП Исакова Айгерим", True, ""),
    ("0034567", "ОсОО «Бишкек Медиа»", True, ""),
    ("0054321", "ОсОО «Старый Сайт»", False, ""),  # 79: account not active
    ("0011111", "ИП Токтогулов Нурлан", True, "busy-once"),  # 1 on the first pay, then 0
    ("0090090", "ОсОО «Вечный Процесс»", True, "unfinished"),  # 90 on every pay
    ("0077777", "ОсОО «Закрытый Доступ»", True, "forbidden"),  # 7 on every request
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account TEXT PRIMARY KEY, holder TEXT NOT NULL, active INTEGER NOT NULL,
    behaviour TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS payments (
    prv_txn INTEGER PRIMARY KEY AUTOINCREMENT, txn_id TEXT NOT NULL UNIQUE,
    txn_date TEXT NOT NULL, account TEXT NOT NULL, amount INTEGER NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (txn_id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (txn_id TEXT PRIMARY KEY, count INTEGER NOT NULL);
"""

FAULTS = ("slow", "close", "http500", "garbage", "result")


@dataclass
class Fault:
    mode: str
    times: int | None = None  # None: every request
    command: str = "pay"  # "pay", "check" or "any"
    delay: float = 2.0  # slow
    code: int = 1  # result


def som_to_tyiyn(text: str) -> int | None:
    if not re.fullmatch(r"\d{1,12}\.\d{2}", text or "", re.ASCII):
        return None
    whole, cents = text.split(".")
    return int(whole) * 100 + int(cents)


def tyiyn_to_som(tyiyn: int) -> str:
    return f"{tyiyn // 100}.{tyiyn % 100:02d}"


def answer_xml(txn_id, result, comment, *, prv_txn="", sum_text="", fields=None) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<response>",
        f"<osmp_txn_id>{escape(txn_id)}</osmp_txn_id>",
        f"<prv_txn>{escape(str(prv_txn))}</prv_txn>",
        f"<sum>{escape(sum_text)}</sum>",
        f"<result>{result}</result>",
        f"<comment>{escape(comment)}</comment>",
    ]
    if fields:
        parts.append("<fields>")
        for i, (name, value) in enumerate(fields.items(), 1):
            parts.append(f"<field{i} name={quoteattr(name)}>{escape(value)}</field{i}>")
        parts.append("</fields>")
    parts.append("</response>")
    return "\n".join(parts).encode()


class ReferenceProvider:
    """The provider: `start()` serves in a background thread, `serve_forever()` in this one."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str = ":memory:",
        login: str = "",
        password: str = "",
        accounts=DEMO_ACCOUNTS,
        min_sum: int = 1_00,
        max_sum: int = 50_000_00,
        quiet: bool = True,
    ):
        self.login, self.password = login, password
        self.min_sum, self.max_sum = min_sum, max_sum
        self.quiet = quiet
        self.lock = threading.RLock()
        self.db = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
        self.db.executescript(SCHEMA)
        for account in accounts:
            self.add_account(*account)
        self.faults: list[Fault] = []
        self.requests: list[dict] = []  # every request seen: its command and parameters
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.host, self.port = self.server.server_address[:2]
        self._thread = None

    # --- setup and inspection ---

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/osmp"

    def add_account(self, account, holder, active=True, behaviour=""):
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?)",
                (account, holder, int(bool(active)), behaviour),
            )

    def fault(self, mode, *, times=None, command="pay", delay=2.0, code=1):
        if mode not in FAULTS:
            raise ValueError(f"unknown fault {mode!r}; one of {', '.join(FAULTS)}")
        with self.lock:
            self.faults.append(Fault(mode, times, command, delay, code))

    def clear_faults(self):
        with self.lock:
            self.faults.clear()

    def payments(self) -> list[dict]:
        """The ledger of received payments, oldest first."""
        with self.lock:
            rows = self.db.execute(
                "SELECT prv_txn, txn_id, txn_date, account, amount, received_at FROM payments "
                "ORDER BY prv_txn"
            ).fetchall()
        keys = ("prv_txn", "txn_id", "txn_date", "account", "amount", "received_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def registry(self, day: str) -> list[list[str]]:
        """The payments received for `day` (YYYY-MM-DD, by their txn_date), as CSV rows."""
        stamp = day.replace("-", "")
        rows = []
        for p in self.payments():
            if p["txn_date"][:8] == stamp:
                moment = datetime.strptime(p["txn_date"], "%Y%m%d%H%M%S")
                rows.append(
                    [
                        p["txn_id"],
                        moment.strftime("%Y-%m-%d %H:%M:%S"),
                        p["account"],
                        tyiyn_to_som(p["amount"]),
                        "",
                    ]
                )
        return rows

    def registry_csv(self, day: str) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["txn_id", "datetime", "account", "amount", "payment_code"])
        writer.writerows(self.registry(day))
        return out.getvalue()

    def pays(self, txn_id=None) -> list[dict]:
        """The pay requests seen (for one txn_id when given)."""
        return [
            r
            for r in list(self.requests)
            if r.get("command") == "pay" and (txn_id is None or r.get("txn_id") == str(txn_id))
        ]

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

    def _take_fault(self, command) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.command in (command, "any"):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self.faults.remove(fault)
                    return fault
        return None

    def handle(self, command, params) -> bytes:
        """The XML answer to one check or pay."""
        txn_id = params.get("txn_id", "")
        account = params.get("account", "")
        sum_text = params.get("sum", "")
        if not re.fullmatch(r"\d{1,20}", txn_id, re.ASCII):
            return answer_xml(txn_id, 300, "bad txn_id")
        with self.lock:
            if command == "pay":
                replay = self.db.execute(
                    "SELECT body FROM answers WHERE txn_id = ?", (txn_id,)
                ).fetchone()
                if replay:
                    return replay[0]
            body, final = self._answer(command, txn_id, account, sum_text, params)
            if command == "pay" and final:
                self.db.execute("INSERT INTO answers VALUES (?, ?)", (txn_id, body))
            return body

    def _answer(self, command, txn_id, account, sum_text, params) -> tuple[bytes, bool]:
        amount = som_to_tyiyn(sum_text)
        if amount is None:
            return answer_xml(txn_id, 300, "bad sum"), True
        if command == "pay" and not re.fullmatch(r"\d{14}", params.get("txn_date", ""), re.ASCII):
            return answer_xml(txn_id, 300, "bad txn_date"), True
        if not re.fullmatch(r"\d{5,20}", account, re.ASCII):
            return answer_xml(txn_id, 4, "bad account format"), True
        row = self.db.execute(
            "SELECT holder, active, behaviour FROM accounts WHERE account = ?", (account,)
        ).fetchone()
        if row is None:
            return answer_xml(txn_id, 5, "account not found"), True
        holder, active, behaviour = row
        if not active:
            return answer_xml(txn_id, 79, "account not active"), True
        if behaviour == "forbidden":
            return answer_xml(txn_id, 7, "payments to this account are forbidden"), True
        if amount < self.min_sum:
            return answer_xml(txn_id, 241, "amount too small"), True
        if amount > self.max_sum:
            return answer_xml(txn_id, 242, "amount too large"), True
        if command == "check":
            return answer_xml(txn_id, 0, "OK", sum_text=sum_text, fields={"name": holder}), True
        if behaviour == "unfinished":
            return answer_xml(txn_id, 90, "payment not finished"), False
        if behaviour == "busy-once":
            seen = self.db.execute(
                "SELECT count FROM attempts WHERE txn_id = ?", (txn_id,)
            ).fetchone()
            self.db.execute(
                "INSERT OR REPLACE INTO attempts VALUES (?, ?)",
                (txn_id, (seen[0] if seen else 0) + 1),
            )
            if not seen:
                return answer_xml(txn_id, 1, "temporary error, try again"), False
        cursor = self.db.execute(
            "INSERT INTO payments (txn_id, txn_date, account, amount, received_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                txn_id,
                params["txn_date"],
                account,
                amount,
                datetime.now().isoformat(timespec="seconds"),
            ),
        )
        return answer_xml(txn_id, 0, "OK", prv_txn=cursor.lastrowid, sum_text=sum_text), True

    def _authorised(self, header: str) -> bool:
        if not self.login:
            return True
        expected = base64.b64encode(f"{self.login}:{self.password}".encode()).decode()
        return secrets.compare_digest(header or "", f"Basic {expected}")

    def _handler_class(self):
        provider = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "ReferenceProvider/1.0"
            protocol_version = "HTTP/1.0"

            def log_message(self, format, *args):  # noqa: A002 - the base class's name
                if not provider.quiet:
                    super().log_message(format, *args)

            def send(self, status, body: bytes, content_type="text/xml; charset=utf-8"):
                with suppress(OSError):
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def do_GET(self):  # noqa: N802 - the base class's name
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if not provider._authorised(self.headers.get("Authorization", "")):
                    self.send(401, b"unauthorised", "text/plain")
                    return
                if parts.path == "/registry":
                    day = params.get("date", "")
                    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day, re.ASCII):
                        self.send(400, b"date=YYYY-MM-DD", "text/plain")
                        return
                    self.send(200, provider.registry_csv(day).encode(), "text/csv; charset=utf-8")
                    return
                if parts.path != "/osmp":
                    self.send(404, b"not found", "text/plain")
                    return
                command = params.get("command", "")
                with provider.lock:
                    provider.requests.append({"command": command, **params})
                if command not in ("check", "pay"):
                    self.send(200, answer_xml(params.get("txn_id", ""), 300, "bad command"))
                    return
                fault = provider._take_fault(command)
                if fault and fault.mode == "close":
                    self.close_connection = True
                    with suppress(OSError):
                        self.connection.shutdown(2)
                    return
                if fault and fault.mode == "http500":
                    self.send(500, b"Internal Server Error", "text/plain")
                    return
                if fault and fault.mode == "garbage":
                    self.send(200, b"<response><result>0</resu")
                    return
                if fault and fault.mode == "result":
                    body = answer_xml(params.get("txn_id", ""), fault.code, "fault")
                    self.send(200, body)
                    return
                body = provider.handle(command, params)
                if fault and fault.mode == "slow":
                    time.sleep(fault.delay)
                self.send(200, body)

        return Handler


def parse_fault(text: str) -> Fault:
    """'http500', 'slow:3' (times), 'result:90' (code, every pay), 'result:1:2' (code, times)."""
    mode, *rest = text.split(":")
    if mode not in FAULTS:
        raise argparse.ArgumentTypeError(f"unknown fault {mode!r}; one of {', '.join(FAULTS)}")
    try:
        numbers = [int(x) for x in rest]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad fault {text!r}") from None
    if mode == "result":
        code = numbers[0] if numbers else 1
        times = numbers[1] if len(numbers) > 1 else None
        return Fault(mode, times, code=code)
    return Fault(mode, numbers[0] if numbers else None)


def add_arguments(parser):
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    parser.add_argument("--login", default="", help="require basic auth with this login")
    parser.add_argument("--password", default="")
    parser.add_argument(
        "--fault",
        action="append",
        type=parse_fault,
        default=[],
        help="misbehave on pay: http500[:N], close[:N], garbage[:N], slow[:N], result:CODE[:N]",
    )


def serve(options, write=print) -> None:
    provider = ReferenceProvider(
        host=options.host,
        port=options.port,
        db=options.db,
        login=options.login,
        password=options.password,
        quiet=False,
    )
    provider.faults.extend(options.fault)
    write(f"Reference OSMP provider on {provider.url} (registry: {provider.base_url}/registry)")
    write("Accounts: " + ", ".join(f"{a} {h}" for a, h, *_ in DEMO_ACCOUNTS))
    try:
        provider.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        provider.server.server_close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    serve(parser.parse_args())
