"""The one outbound HTTP client: every call to a provider's gateway, the SMS gateway and
(later) push services goes through `request()`.

What it guarantees, whoever calls it:

- http and https only (no file:, ftp:, data: ...);
- a redirect is never followed: a 3xx is an answer like any other, so credentials and
  payloads never reach a host we did not name;
- one deadline for the whole exchange (name lookup, connect, TLS, sending, the status line,
  the headers and the body): a server that drips its answer a byte at a time is cut off
  at `timeout` seconds all the same;
- the host's addresses are resolved once and every one of them must be public, unless
  settings.OUTBOUND_ALLOW_PRIVATE (development, tests, the reference servers on 127.0.0.1);
  the connection goes to an address that was checked (no second lookup to rebind);
- the answer's body is read up to `max_bytes`, no further;
- no proxy from the environment, no cookies, no automatic retries.

Every failure is an `OutboundError` (a subclass tells which kind): the caller decides what
it means for its operation (retry, failed, ...).
"""

import base64
import concurrent.futures
import http.client
import io
import ipaddress
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field

from django.conf import settings

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
USER_AGENT = "Kapchyk/1"


class OutboundError(Exception):
    """No usable answer."""


class Refused(OutboundError):
    """The URL is not one we call: its scheme, its host or one of its addresses."""


class Timeout(OutboundError):
    """The deadline passed before the whole answer was in."""


class ConnectionFailed(OutboundError):
    """Lookup failed, connection refused or reset, TLS error, a broken HTTP answer."""


class TooLarge(OutboundError):
    """The answer's body is longer than max_bytes."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def redirect(self) -> bool:
        return 300 <= self.status < 400


def basic_auth(user: str, password: str) -> str:
    """The Authorization header's value for HTTP Basic."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for a public unicast address; private, loopback, link-local, reserved,
    multicast and unspecified ones (IPv4-mapped IPv6 included) are not."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_unspecified or ip.is_reserved)


# Name lookups have no timeout of their own: they run here, waited for up to the deadline.
_LOOKUPS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="dns")


def _resolve(host: str, port: int, deadline: float) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]  # a literal address: no lookup
    except ValueError:
        pass
    future = _LOOKUPS.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(deadline - time.monotonic(), 0.001))
    except concurrent.futures.TimeoutError:
        raise Timeout(f"no address for {host} in time") from None
    except (OSError, UnicodeError) as exc:
        raise ConnectionFailed(f"cannot resolve {host}: {exc.__class__.__name__}") from None
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 scope id is not part of it
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise ConnectionFailed(f"no address for {host}")
    return addresses


def _check_addresses(host: str, addresses: list[str]) -> None:
    if getattr(settings, "OUTBOUND_ALLOW_PRIVATE", False):
        return
    for address in addresses:
        if not address_allowed(ipaddress.ip_address(address)):
            # Every address counts: a name with one public and one private address could be
            # made to connect to the private one.
            raise Refused(f"{host} has a non-public address ({address})")


class _DeadlineReader(io.RawIOBase):
    """The socket's reads, each one allowed only the time left before the deadline.

    It holds the file http.client made (`held`), which keeps the socket open until the
    response is done with it, as http.client expects."""

    def __init__(self, sock, held, deadline: float):
        self.sock = sock
        self.held = held
        self.deadline = deadline

    def close(self):
        if not self.closed:
            self.held.close()
        super().close()

    def readable(self):
        return True

    def readinto(self, buffer):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        self.sock.settimeout(remaining)
        return self.sock.recv_into(buffer)


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock, *args, deadline: float, **kwargs):
        super().__init__(sock, *args, **kwargs)
        self.fp = io.BufferedReader(_DeadlineReader(sock, self.fp, deadline))


class _Connection(http.client.HTTPConnection):
    """Connects to the checked `address`, not to a fresh lookup of the host name."""

    def __init__(self, host, port, *, address: str, deadline: float):
        super().__init__(host, port, timeout=max(deadline - time.monotonic(), 0.001))
        self.address = address
        self.deadline = deadline
        self.response_class = _response_factory(deadline)

    def _socket(self):
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        sock = socket.create_connection((self.address, self.port), timeout=remaining)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connect(self):
        self.sock = self._socket()


class _TlsConnection(_Connection):
    def __init__(self, host, port, *, address: str, deadline: float):
        super().__init__(host, port, address=address, deadline=deadline)
        self.context = ssl.create_default_context()

    def connect(self):
        sock = self._socket()
        try:
            self.sock = self.context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _response_factory(deadline):
    def make(sock, *args, **kwargs):
        return _DeadlineResponse(sock, *args, deadline=deadline, **kwargs)

    return make


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 5.0,
    max_bytes: int = 64 * 1024,
) -> Response:
    """One HTTP exchange within `timeout` seconds in all. Any status is returned (3xx too,
    never followed); anything else raises an OutboundError."""
    deadline = time.monotonic() + float(timeout)
    parts = urllib.parse.urlsplit(url or "")
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise Refused(f"only http(s) URLs are called, not {scheme or 'this'}:")
    try:
        host, port = parts.hostname, parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        raise Refused("the URL's port is not a number") from None
    if not host:
        raise Refused("the URL has no host")
    if parts.username or parts.password:
        raise Refused("credentials go in a header, not in the URL")
    addresses = _resolve(host, port, deadline)
    _check_addresses(host, addresses)
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    all_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", "Connection": "close"}
    all_headers.update(headers or {})
    connection_class = _TlsConnection if scheme == "https" else _Connection
    failure = None
    for address in addresses:
        connection = connection_class(host, port, address=address, deadline=deadline)
        try:
            connection.connect()
        except TimeoutError:
            connection.close()
            raise Timeout(f"no connection in {timeout:g} s") from None
        except ssl.SSLError as exc:
            connection.close()
            raise ConnectionFailed(f"TLS: {exc.reason or exc.__class__.__name__}") from None
        except OSError as exc:
            connection.close()
            failure = exc  # the next address, if any
            continue
        try:
            return _exchange(connection, method, target, all_headers, body, max_bytes, timeout)
        finally:
            connection.close()
    raise ConnectionFailed(f"connection failed: {failure.__class__.__name__}")


def _exchange(connection, method, target, headers, body, max_bytes, timeout) -> Response:
    try:
        connection.sock.settimeout(max(connection.deadline - time.monotonic(), 0.001))
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read(max_bytes + 1)
    except TimeoutError:
        raise Timeout(f"no answer in {timeout:g} s") from None
    except ssl.SSLError as exc:
        raise ConnectionFailed(f"TLS: {exc.reason or exc.__class__.__name__}") from None
    except (http.client.HTTPException, OSError) as exc:
        raise ConnectionFailed(f"connection failed: {exc.__class__.__name__}") from None
    if len(data) > max_bytes:
        raise TooLarge(f"the answer is longer than {max_bytes} bytes")
    return Response(
        status=response.status,
        body=data,
        headers={key.lower(): value for key, value in response.getheaders()},
    )
