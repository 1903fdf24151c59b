"""A real SMTP server for the browser tests: what the app sends is read from it.

``mailbox`` starts aiosmtpd on loopback and points the live server's app at it. Messages are
queued in the outbox by the app as in production; ``Mailbox.deliver()`` runs the worker's
delivery (``deliver_due``) once, and ``Mailbox.link(to, pattern)`` returns the first URL of
the latest message received for ``to`` that matches ``pattern``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.mail_fixtures import HOST, SMTPServer
from trainingmgr.mail.delivery import deliver_due


@dataclass
class Mailbox:
    server: SMTPServer
    app: Any

    def deliver(self) -> int:
        """Deliver every due message from the outbox to the SMTP server (the worker's job)."""
        with self.app.app_context():
            return deliver_due(batch=500).sent

    def messages_to(self, to: str) -> list[Any]:
        return [r.message for r in self.server.received if to.lower() in r.rcpt_tos]

    @staticmethod
    def text(message: Any) -> str:
        """The plain-text part of ``message``, decoded."""
        return str(message.get_body(preferencelist=("plain",)).get_content())

    def link(self, to: str, pattern: str) -> str:
        """Deliver what is due, then the URL matching ``pattern`` in the latest mail to ``to``."""
        self.deliver()
        messages = self.messages_to(to)
        assert messages, f"no mail reached the SMTP server for {to}"
        text = self.text(messages[-1])
        match = re.search(rf"https?://\S*{pattern}", text)
        assert match, f"no link matching {pattern!r} in:\n{text}"
        return match.group(0)


@pytest.fixture
def mailbox(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    server = SMTPServer()
    server.start()
    config = live_server.app.config
    for key, value in {
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": HOST,
        "MAIL_PORT": server.port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": "",
        "MAIL_TIMEOUT": 5,
    }.items():
        monkeypatch.setitem(config, key, value)
    try:
        yield Mailbox(server, live_server.app)
    finally:
        server.stop()
