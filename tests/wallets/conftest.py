import pytest

from tests.smtp import SmtpServer


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1; its letters in `smtp.letters`."""
    server = SmtpServer().start()
    yield server
    server.stop()
