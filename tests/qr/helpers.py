"""ELQR codes written by hand, with the checksum computed here (hashlib), not by qr.elqr."""

import hashlib
from urllib.parse import quote


def tlv(fid: str, value: str) -> str:
    return f"{fid}{len(value):02d}{value}"


def seal(body: str, *, upper: bool = False) -> str:
    """The payload: body, then field 63 with SHA-256's last 4 hex characters of the body."""
    checksum = hashlib.sha256(body.encode("utf-8")).hexdigest()[-4:]
    return body + "6304" + (checksum.upper() if upper else checksum)


def payload(*fields: str, upper: bool = False) -> str:
    return seal("".join(fields), upper=upper)


def link(router: str, *fields: str, upper: bool = False) -> str:
    return router + "#" + quote(payload(*fields, upper=upper), safe="")


VERSION = tlv("00", "01")
STATIC = tlv("01", "11")
DYNAMIC = tlv("01", "12")
KGS = tlv("53", "417")
