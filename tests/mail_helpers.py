"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping what it receives.

The fixtures `smtp_server` and `mail_on` are available to every test (conftest.py loads this
module as a plugin):

    def test_something(app, smtp_server):
        with smtp_server.configured(app):  # MAIL_SERVER/MAIL_PORT point at it, restored after
            ...send...
        [mail] = smtp_server.messages
        assert mail["Subject"] == "..."
        assert smtp_server.text(mail) ...

The sender (app/services/messages/sending.py) reads the MAIL_* settings when it sends, so
pointing an app that is already built at this server is enough. `fail_next(n, code=451)` makes
the next n messages be refused (a temporary failure), to test retries.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    """One message as the server got it: the SMTP envelope and the parsed message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes = b""  # as it came over the wire

    def __getitem__(self, header: str) -> str | None:
        return self.message[header]

    def part(self, content_type: str) -> str:
        """The body of the text/plain or text/html part, decoded, with \n line ends."""
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                return part.get_content().replace("\r\n", "\n")
        raise AssertionError(f"no {content_type} part in {self.message['Subject']!r}")

    @property
    def text(self) -> str:
        return self.part("text/plain")

    @property
    def html(self) -> str:
        return self.part("text/html")


@dataclass
class _Handler:
    server: SmtpServer

    async def handle_DATA(self, smtp, session, envelope):  # aiosmtpd calls it by this name
        return self.server._receive(envelope)


@dataclass
class SmtpServer:
    host: str = HOST
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    _refuse: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.port = free_port()
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _receive(self, envelope) -> str:
        with self._lock:
            if self._refuse:
                return self._refuse.pop(0)
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, envelope.content)  # type: ignore[arg-type]
            )
        return "250 Message accepted for delivery"

    def fail_next(self, count: int = 1, reply: str = "451 Try again later") -> None:
        """Refuse the next `count` messages with `reply` (4xx: temporary, 5xx: permanent)."""
        with self._lock:
            self._refuse.extend([reply] * count)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self._refuse.clear()

    def to(self, address: str) -> list[Received]:
        return [received for received in self.messages if address in received.rcpt_tos]

    @property
    def settings(self) -> dict:
        return {
            "MAIL_SERVER": self.host,
            "MAIL_PORT": self.port,
            "MAIL_USE_TLS": False,
            "MAIL_USE_SSL": False,
            "MAIL_USERNAME": None,
            "MAIL_PASSWORD": None,
            "MAIL_TIMEOUT_SECONDS": 5,
        }

    @contextmanager
    def configured(self, app) -> Iterator[SmtpServer]:
        """Point `app`'s MAIL_* settings at this server (email on), restored afterwards."""
        before = {key: app.config.get(key) for key in self.settings}
        app.config.update(self.settings)
        try:
            yield self
        finally:
            app.config.update(before)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP server on a free loopback port; stopped after the test."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_on(app, smtp_server) -> Iterator[SmtpServer]:
    """Email on for this test, through `smtp_server`."""
    with smtp_server.configured(app):
        yield smtp_server
