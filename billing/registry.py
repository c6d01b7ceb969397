"""The daily registry of a provider's payments, and reconciliation with the provider's.

A registry is CSV with a header: txn_id, datetime (the payment's txn_date, local time,
YYYY-MM-DD HH:MM:SS), account, amount (som, 2 decimals, a dot), payment_code (ours; a
provider's registry may leave it empty). Ours lists the succeeded payments made that day.
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field

from django.utils import timezone

from providers.gateways import parse_sum, som_text

from .models import Payment, format_code

HEADER = ["txn_id", "datetime", "account", "amount", "payment_code"]


@dataclass(frozen=True)
class Row:
    txn_id: str
    moment: str
    account: str
    amount: int
    code: str = ""
    line: int = 0

    @property
    def day(self) -> datetime.date:
        return datetime.date.fromisoformat(self.moment[:10])


def _moment(payment: Payment) -> str:
    return timezone.localtime(payment.created_at).strftime("%Y-%m-%d %H:%M:%S")


def row_of(payment: Payment) -> Row:
    return Row(str(payment.txn_id), _moment(payment), payment.account, payment.amount, payment.code)


def registry_rows(*, provider, day: datetime.date) -> list[Row]:
    return [row_of(p) for p in Payment.objects.registered(provider=provider, day=day)]


def registry_write(rows, out) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([row.txn_id, row.moment, row.account, som_text(row.amount), row.code])


def registry_csv(*, provider, day: datetime.date) -> str:
    out = io.StringIO()
    registry_write(registry_rows(provider=provider, day=day), out)
    return out.getvalue()


class RegistryError(ValueError):
    pass


def registry_read(text: str) -> list[Row]:
    """Rows of a registry file; RegistryError naming the line for anything unreadable."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    rows: list[Row] = []
    header = None
    for number, cells in enumerate(reader, 1):
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if header is None:
            header = [c.lower() for c in cells]
            if header[:4] != HEADER[:4]:
                raise RegistryError(f"line {number}: the header must be {','.join(HEADER)}")
            continue
        if len(cells) < 4:
            raise RegistryError(f"line {number}: {len(cells)} columns, 4 or 5 expected")
        txn_id, moment, account, amount = cells[:4]
        code = cells[4].replace(" ", "") if len(cells) > 4 else ""
        if not re.fullmatch(r"[0-9]{1,20}", txn_id):
            raise RegistryError(f"line {number}: txn_id {txn_id[:30]!r} is not a number")
        try:
            datetime.datetime.strptime(moment, "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise RegistryError(
                f"line {number}: datetime {moment[:30]!r} is not YYYY-MM-DD HH:MM:SS"
            ) from None
        tyiyn = parse_sum(amount)
        if tyiyn is None or tyiyn <= 0:
            raise RegistryError(f"line {number}: amount {amount[:30]!r} is not som like 150.00")
        rows.append(Row(txn_id, moment, account, tyiyn, code, number))
    if header is None:
        raise RegistryError("the file is empty (no header)")
    return rows


@dataclass
class Reconciliation:
    days: list[datetime.date]
    matched: int = 0
    missing: list[Row] = field(default_factory=list)  # ours succeeded; not in theirs
    extra: list[tuple[Row, str]] = field(default_factory=list)  # theirs; ours not succeeded
    mismatched: list[tuple[Row, list[str]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.mismatched)

    def lines(self) -> list[str]:
        out = []
        for row in self.missing:
            out.append(
                f"missing     txn_id {row.txn_id}  {row.moment}  {row.account}  "
                f"{som_text(row.amount)}  code {format_code(row.code)}: succeeded here, "
                "not in the provider's registry"
            )
        for row, ours in self.extra:
            out.append(
                f"extra       txn_id {row.txn_id}  {row.moment}  {row.account}  "
                f"{som_text(row.amount)}: in the provider's registry, here {ours}"
            )
        for row, differences in self.mismatched:
            out.append(f"mismatched  txn_id {row.txn_id}: " + "; ".join(differences))
        return out


def reconcile(*, provider, rows: list[Row], days=()) -> Reconciliation:
    """Compare a provider's registry with our succeeded payments to it.

    Ours are taken for `days` and every day the registry mentions. Missing: succeeded here,
    absent there. Extra: there, but here unknown or not succeeded (pending, needs attention,
    failed — refunded). Mismatched: both, with a different account, amount, date and time or
    payment code.
    """
    days = sorted(set(days) | {row.day for row in rows})
    result = Reconciliation(days=days)
    theirs: dict[str, Row] = {}
    for row in rows:
        if row.txn_id in theirs:
            first = theirs[row.txn_id].line
            result.mismatched.append((row, [f"listed twice (lines {first} and {row.line})"]))
            continue
        theirs[row.txn_id] = row
    ids = [int(t) for t in theirs if len(t) <= 18]
    ours_by_id = {str(p.txn_id): p for p in Payment.objects.filter(provider=provider, pk__in=ids)}
    for txn_id, row in theirs.items():
        payment = ours_by_id.get(txn_id)
        if payment is None:
            result.extra.append((row, "unknown"))
            continue
        if payment.status != Payment.Status.SUCCEEDED:
            result.extra.append((row, payment.status))
            continue
        ours = row_of(payment)
        differences = []
        if row.account != ours.account:
            differences.append(f"account: ours {ours.account}, theirs {row.account}")
        if row.amount != ours.amount:
            differences.append(
                f"amount: ours {som_text(ours.amount)}, theirs {som_text(row.amount)}"
            )
        if row.moment != ours.moment:
            differences.append(f"datetime: ours {ours.moment}, theirs {row.moment}")
        if row.code and row.code != ours.code:
            differences.append(f"payment code: ours {ours.code}, theirs {row.code}")
        if differences:
            result.mismatched.append((row, differences))
        else:
            result.matched += 1
    for day in days:
        for payment in Payment.objects.registered(provider=provider, day=day):
            if str(payment.txn_id) not in theirs:
                result.missing.append(row_of(payment))
    return result
