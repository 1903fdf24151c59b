"""A real SMTP server on loopback (aiosmtpd) for the e-mail tests.

``smtp_server`` starts one on 127.0.0.1 at a free port and points the app at it
(``MAIL_BACKEND=smtp``). It records what it receives; ``refuse(...)`` makes it answer 550,
``stop()`` closes the port (the server is down) and ``start()`` brings it back on the same
port. Import the fixture in a test module: ``from tests.mail_fixtures import smtp_server``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from babel.dates import format_skeleton
from flask import Flask

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        msg = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class RecordingHandler:
    """Accepts (or refuses) every message and keeps what it accepted."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refusal: str | None = None
        self.delay = 0.0
        self.lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.refusal:
            return self.refusal
        content = envelope.original_content or envelope.content
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(content))
            )
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class SMTPServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.handler = RecordingHandler()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname=HOST, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, reply: str = "550 5.7.1 Refused for the test") -> None:
        self.handler.refusal = reply

    def accept(self) -> None:
        self.handler.refusal = None

    @property
    def received(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)


@pytest.fixture
def smtp_server(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SERVER", HOST)
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app.config, "MAIL_USE_SSL", False)
    monkeypatch.setitem(app.config, "MAIL_USERNAME", "")
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    try:
        yield server
    finally:
        server.stop()


FIRST_SESSION = datetime(2030, 3, 4, 5, 0, tzinfo=UTC)  # 09:00 in Baku, the first of ``course``


def first_day(language: str, later: int = 0) -> str:
    """The first session's day (or ``later`` days after it) as the app writes it for
    ``language`` ("Mon, Mar 4, 2030").

    Built with the same Babel call as the app (``timefmt.fmt_day``), so that a new CLDR
    release changing a locale's pattern does not fail the tests of e-mails; the patterns
    themselves are checked once, in ``tests/test_locale.py``.
    """
    return format_skeleton(
        "yMMMEd",
        (FIRST_SESSION + timedelta(days=later)).astimezone(ZoneInfo("Asia/Baku")),
        locale=language,
    )


def course(make: Any, *, language: str = "en", sessions: int = 3, **cohort: Any) -> Any:
    """A cohort in Baku (UTC+4) in March 2030, with ``sessions`` daily sessions at 09:00-12:00
    local time (05:00-08:00 UTC), titled "Day 1", "Day 2"..."""
    programme = make.programme(title="Управление миграцией")
    values: dict[str, Any] = {
        "name": "Bakı 2030",
        "start_date": date(2030, 3, 4),
        "end_date": date(2030, 3, 15),
        "timezone": "Asia/Baku",
        "language": language,
        "venue": "ADA University",
        "city": "Baku",
        **cohort,
    }
    c = make.cohort(programme, **values)
    for day in range(sessions):
        start = datetime(2030, 3, 4 + day, 5, 0, tzinfo=UTC)
        make.session(c, starts_at=start, ends_at=start + timedelta(hours=3), title=f"Day {day + 1}")
    return c
