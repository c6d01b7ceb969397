"""config.http, the one outbound HTTP client, against real local servers: redirects are
answers (never followed), one deadline for the whole exchange, http(s) only, non-public
addresses refused unless allowed."""

import ipaddress
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from config import http


class Server:
    """A real HTTP server on 127.0.0.1: `handler(request_handler)` answers each request;
    every request is recorded as (method, path, Authorization)."""

    def __init__(self, handler, *, tls_context=None):
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen.append((self.command, self.path, self.headers.get("Authorization"), body))
                handler(self)

            do_GET = do_POST = do_PUT = do_HEAD = _any

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        if tls_context is not None:
            self.server.socket = tls_context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_port
        scheme = "https" if tls_context else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def answer(status=200, body=b"ok", headers=()):
    def handle(h):
        h.send_response(status)
        for key, value in headers:
            h.send_header(key, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return handle


@pytest.fixture
def servers():
    started = []

    def start(handler, **kwargs):
        server = Server(handler, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def allow_private(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = True


def test_an_answer_with_its_status_headers_and_body(servers, allow_private):
    server = servers(answer(201, b'{"id": 7}', [("X-Thing", "1")]))
    response = http.request(
        "POST",
        server.url + "send?x=1",
        headers={"Authorization": http.basic_auth("kapchyk", "s3cret")},
        body=b"{}",
        timeout=2,
    )
    assert (response.status, response.body, response.ok) == (201, b'{"id": 7}', True)
    assert response.headers["x-thing"] == "1"
    assert server.seen == [("POST", "/send?x=1", "Basic a2FwY2h5azpzM2NyZXQ=", b"{}")]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_redirect_is_an_answer_never_followed(servers, allow_private, status, method):
    target = servers(answer(200, b"the target"))
    redirect = servers(answer(status, b"", [("Location", target.url + "elsewhere")]))
    response = http.request(
        method,
        redirect.url + "send",
        headers={"Authorization": http.basic_auth("kapchyk", "s3cret")},
        body=b"{}" if method == "POST" else None,
        timeout=2,
    )
    assert (response.status, response.redirect, response.ok) == (status, True, False)
    assert response.headers["location"] == target.url + "elsewhere"
    assert len(redirect.seen) == 1
    assert target.seen == []  # neither the request nor the credentials went there


def drip(h):
    """Answers one byte at a time, 0.2 s apart, for up to 10 s: each read is quick, the
    whole answer never comes."""
    h.wfile.write(b"HTTP/1.1 200 OK\r\n")
    h.wfile.flush()
    end = time.monotonic() + 10
    try:
        while time.monotonic() < end:
            h.wfile.write(b"X")
            h.wfile.flush()
            time.sleep(0.2)
    except OSError:
        pass  # the client hung up


def drip_body(h):
    h.send_response(200)
    h.send_header("Content-Length", "100000")
    h.end_headers()
    end = time.monotonic() + 10
    try:
        while time.monotonic() < end:
            h.wfile.write(b"0")
            h.wfile.flush()
            time.sleep(0.2)
    except OSError:
        pass


@pytest.mark.parametrize("handler", [drip, drip_body], ids=["headers", "body"])
def test_a_slow_drip_hits_the_total_timeout(servers, allow_private, handler):
    server = servers(handler)
    started = time.monotonic()
    with pytest.raises(http.Timeout, match="no answer in 1 s"):
        http.request("GET", server.url, timeout=1)
    assert 0.9 < time.monotonic() - started < 1.6


def test_a_server_that_never_answers_hits_the_timeout(allow_private):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts connections (the kernel does), never reads or answers
    try:
        started = time.monotonic()
        with pytest.raises(http.Timeout):
            http.request("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=0.5)
        assert time.monotonic() - started < 1.0
    finally:
        listener.close()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://127.0.0.1/file",
        "gopher://127.0.0.1:70/",
        "data:text/plain,hello",
        "javascript:alert(1)",
        "/relative/path",
        "",
        "http:///no-host",
        "http://user:password@127.0.0.1/",
        "http://127.0.0.1:port/",
    ],
)
def test_only_http_urls_with_a_host_are_called(allow_private, url):
    with pytest.raises(http.Refused):
        http.request("GET", url, timeout=1)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1.2.3",
        "localhost",
        "10.0.0.1",
        "10.255.1.2",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "[::1]",
        "[fe80::1]",
        "[fc00::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "224.0.0.1",
    ],
)
def test_non_public_addresses_are_refused_unless_allowed(settings, host):
    """Refused before any connection is tried (so no packet goes to a private range)."""
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(http.Refused, match="non-public address"):
        http.request("GET", f"http://{host}:9/", timeout=1)
    with pytest.raises(http.Refused):
        http.request("GET", f"https://{host}/", timeout=1)


def test_a_local_server_is_refused_when_not_allowed_and_called_when_allowed(settings, servers):
    server = servers(answer(200, b"here"))
    settings.OUTBOUND_ALLOW_PRIVATE = False
    with pytest.raises(http.Refused):
        http.request("GET", server.url, timeout=1)
    assert server.seen == []
    settings.OUTBOUND_ALLOW_PRIVATE = True
    assert http.request("GET", server.url, timeout=1).body == b"here"


def test_every_address_of_a_name_must_be_public(settings):
    settings.OUTBOUND_ALLOW_PRIVATE = False
    http._check_addresses("example.kg", ["93.184.216.34", "2606:2800:220:1::1"])
    with pytest.raises(http.Refused):
        http._check_addresses("example.kg", ["93.184.216.34", "10.0.0.7"])
    with pytest.raises(http.Refused):
        http._check_addresses("example.kg", ["::1", "93.184.216.34"])


def test_public_addresses(settings):
    public = ["93.184.216.34", "8.8.8.8", "2606:2800:220:1::1"]
    assert all(http.address_allowed(ipaddress.ip_address(a)) for a in public)


def test_the_answer_is_read_up_to_max_bytes(servers, allow_private):
    server = servers(answer(200, b"x" * 2000))
    assert len(http.request("GET", server.url, timeout=2, max_bytes=2000).body) == 2000
    with pytest.raises(http.TooLarge):
        http.request("GET", server.url, timeout=2, max_bytes=1999)


def test_a_refused_connection(allow_private):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nobody listens there now
    with pytest.raises(http.ConnectionFailed):
        http.request("GET", f"http://127.0.0.1:{port}/", timeout=1)


def test_https_checks_the_certificate(servers, allow_private, tmp_path):
    """A self-signed certificate is refused: TLS is verified like any browser would."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = servers(answer(200, b"secret"), tls_context=context)
    with pytest.raises(http.ConnectionFailed, match="TLS"):
        http.request("GET", server.url, timeout=2)
    assert server.seen == []
