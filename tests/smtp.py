"""A real SMTP server for tests (aiosmtpd, on 127.0.0.1), and the settings production reads.

`TEST_PORTS=9300-9399` makes the servers of the tests listen only in that range (several
people testing on one machine); unset, the system picks a free port.
"""

import email
import email.policy
import os
import runpy
import socket
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    first, _, last = os.environ.get("TEST_PORTS", "").partition("-")
    candidates = range(int(first), int(last or first) + 1) if first else [0]
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in TEST_PORTS={os.environ['TEST_PORTS']}")


@dataclass
class Letter:
    sender: str
    to: list[str]
    message: email.message.EmailMessage
    login: str | None

    @property
    def subject(self) -> str:
        return self.message["Subject"]

    @property
    def body(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()


@dataclass
class SmtpServer:
    """Accepts every letter into `letters`; with `users`, only after AUTH LOGIN/PLAIN."""

    users: dict[str, str] = field(default_factory=dict)
    letters: list[Letter] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        login = session.auth_data.decode() if session.authenticated else None
        self.letters.append(Letter(envelope.mail_from, list(envelope.rcpt_tos), message, login))
        return "250 Message accepted for delivery"

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = self.users.get(auth_data.login.decode()) == auth_data.password.decode()
        return AuthResult(success=ok, auth_data=auth_data.login)

    def start(self) -> "SmtpServer":
        self.port = free_port()
        with warnings.catch_warnings():
            # AUTH over plain text is what a test on 127.0.0.1 wants.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            self.controller = self._controller()
            self.controller.start()
        return self

    def _controller(self):
        return Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_required=bool(self.users),
            auth_require_tls=False,
        )

    def stop(self) -> None:
        self.controller.stop()


def production_settings(monkeypatch, **environment) -> dict:
    """config/settings.py as a production process reads it from this environment."""
    for name in list(os.environ):
        if name.startswith("EMAIL_"):
            monkeypatch.delenv(name)
    environment = {
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": "test-only-" + "k" * 50,
        "ALLOWED_HOSTS": "testserver",
        **environment,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "settings.py"))
