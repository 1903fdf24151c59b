"""Delivering the outbox: pick due messages, hand them to a backend, record what happened.

Backends (``MAIL_BACKEND``):

- ``smtp``: a mail server (``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USE_TLS`` for STARTTLS,
  ``MAIL_USE_SSL`` for SMTP over TLS, ``MAIL_USERNAME``/``MAIL_PASSWORD``, ``MAIL_TIMEOUT``);
- ``console``: prints each message (headers, text part, attachment names) for development;
- ``memory``: keeps the messages in ``MEMORY_OUTBOX`` (tests).

``deliver_due`` takes pending messages whose ``next_attempt_at`` has come, oldest first, one
at a time, and commits after each one, so a failure never undoes the others:

- on PostgreSQL the message's row is locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` while
  it is sent, so several workers never send one message twice; if the worker dies while
  sending, its transaction is rolled back and the message is still pending;
- on SQLite (no row locks) the message is first claimed with a conditional update that moves
  its ``next_attempt_at`` a lease ahead (``CLAIM_LEASE``); the claim is the only write until
  the send is over, so the database is never kept locked during a slow send. A worker that
  dies while sending leaves the message pending: it is tried again when the lease ends.

A failed attempt is counted, its error kept in ``last_error``, and the next one waits 1, 2,
4, 8... minutes (at most ``MAX_BACKOFF``); after ``MAIL_MAX_ATTEMPTS`` attempts the message is
marked failed (an administrator can retry it from the outbox page).
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from types import TracebackType
from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app

from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db, on_postgresql
from trainingmgr.mail import deferred
from trainingmgr.mail.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# How long a claimed message is left alone on SQLite (longer than any send can take).
CLAIM_LEASE = timedelta(minutes=10)
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_TIMEOUT = 30
ERROR_LENGTH = 2000


class Backend(Protocol):
    """Sends one message; raises on failure. Used as a context manager around a batch."""

    def send(self, sender: str, recipients: list[str], data: bytes) -> None: ...

    def __enter__(self) -> Backend: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class _BaseBackend:
    def __enter__(self) -> _BaseBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release what the batch used (a connection)."""


class SMTPBackend(_BaseBackend):
    """One SMTP connection per batch, opened at the first message and reopened after an error."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.host = config.get("MAIL_SERVER", "localhost")
        self.port = int(config.get("MAIL_PORT", 25))
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.use_ssl = bool(config.get("MAIL_USE_SSL"))
        self.username = config.get("MAIL_USERNAME") or ""
        self.password = config.get("MAIL_PASSWORD") or ""
        self.timeout = float(config.get("MAIL_TIMEOUT", DEFAULT_TIMEOUT))
        self._conn: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        conn: smtplib.SMTP
        if self.use_ssl:
            conn = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.use_tls and not self.use_ssl:
                conn.starttls(context=ssl.create_default_context())
            if self.username:
                conn.login(self.username, self.password)
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, sender: str, recipients: list[str], data: bytes) -> None:
        reused = self._conn is not None
        if self._conn is None:
            self._conn = self._open()
        try:
            self._conn.sendmail(sender, recipients, data)
        except smtplib.SMTPServerDisconnected:
            self.close()
            if not reused:
                raise
            # The server dropped a connection kept from the previous message: one new try.
            self._conn = self._open()
            self._send_or_close(sender, recipients, data)
        except BaseException:
            self.close()
            raise

    def _send_or_close(self, sender: str, recipients: list[str], data: bytes) -> None:
        assert self._conn is not None
        try:
            self._conn.sendmail(sender, recipients, data)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()


def readable(data: bytes) -> str:
    """A message as a person reads it: main headers, the text part, attachment names."""
    msg = parse(data)
    lines = [f"{name}: {msg[name]}" for name in ("From", "To", "Subject", "Date") if msg[name]]
    body = msg.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    lines += ["", text.replace("\r\n", "\n").rstrip()]
    for part in msg.iter_attachments():
        lines.append(f"[attachment: {part.get_filename()} ({part.get_content_type()})]")
    return "\n".join(lines)


class ConsoleBackend(_BaseBackend):
    """Prints messages (development: read sign-in links in the terminal)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream

    def send(self, sender: str, recipients: list[str], data: bytes) -> None:
        stream = self.stream or sys.stdout
        rule = "-" * 72
        stream.write(f"{rule}\nE-mail to {', '.join(recipients)}\n{readable(data)}\n{rule}\n")
        stream.flush()
        log.info("e-mail to %s printed to the console", ", ".join(recipients))


@dataclass(frozen=True)
class SentMail:
    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return parse(self.data)


# Messages "sent" by the memory backend, oldest first (tests read and clear it).
MEMORY_OUTBOX: list[SentMail] = []
_memory_lock = threading.Lock()


class MemoryBackend(_BaseBackend):
    def send(self, sender: str, recipients: list[str], data: bytes) -> None:
        with _memory_lock:
            MEMORY_OUTBOX.append(SentMail(sender, list(recipients), data))


BACKENDS: dict[str, Callable[[dict[str, Any]], Backend]] = {
    "smtp": SMTPBackend,
    "console": lambda _config: ConsoleBackend(),
    "memory": lambda _config: MemoryBackend(),
}


def get_backend(config: dict[str, Any] | None = None) -> Backend:
    """The backend named by ``MAIL_BACKEND``."""
    config = current_app.config if config is None else config
    name = str(config.get("MAIL_BACKEND", "console")).strip().lower()
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise ValueError(
            f"MAIL_BACKEND must be one of {', '.join(sorted(BACKENDS))}, not {name!r}"
        ) from None
    return factory(config)


def parse(data: bytes) -> EmailMessage:
    """A stored message, parsed (headers decoded, parts readable)."""
    msg = message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def wire_format(data: bytes) -> bytes:
    """The message with CRLF line ends, as SMTP wants them."""
    return re.sub(rb"\r?\n", b"\r\n", data)


def envelope(data: bytes, recipient: str) -> tuple[str, list[str]]:
    """The envelope sender (the From address) and recipients of a stored message."""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(data)
    senders = [a for _n, a in getaddresses([str(headers.get("From", ""))]) if a]
    fallback = [a for _n, a in getaddresses([current_app.config["MAIL_DEFAULT_SENDER"]]) if a]
    recipients = [a for _n, a in getaddresses([recipient]) if a] or [recipient]
    return (senders or fallback or [""])[0], recipients


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4, 8... minutes, capped."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


@dataclass
class DeliveryCounts:
    sent: int = 0
    retrying: int = 0  # failed this time, tried again later
    failed: int = 0  # gave up
    jobs: int = 0  # work done by the background jobs of the same turn (``core.jobs``)

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed

    def __iadd__(self, other: DeliveryCounts) -> DeliveryCounts:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.jobs += other.jobs
        return self

    def __str__(self) -> str:
        return f"sent {self.sent}, to retry later {self.retrying}, failed (gave up) {self.failed}"


@dataclass(frozen=True)
class _Claimed:
    id: int
    recipient: str
    message: bytes
    attempts: int


def _due(now: datetime) -> sa.Select[tuple[Any, ...]]:
    return (
        sa.select(
            OutboxMessage.id,
            OutboxMessage.recipient,
            OutboxMessage.message,
            OutboxMessage.attempts,
        )
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.message.is_not(None),  # not yet written: see deferred.render_pending
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
    )


def _claim_locked(now: datetime) -> _Claimed | None:
    """PostgreSQL: lock the next due row, skipping rows other workers hold. The lock lasts
    until the outcome is committed."""
    row = db.session.execute(_due(now).with_for_update(skip_locked=True)).first()
    if row is None:
        db.session.rollback()
        return None
    return _Claimed(*row)


def _claim_leased(now: datetime, tries: int = 5) -> _Claimed | None:
    """SQLite: claim the next due row by moving it a lease ahead, if nobody did first.

    Every write transaction starts with its write (no read first), so SQLite's busy timeout
    applies instead of an immediate "database is locked"; nothing stays locked during the send.
    """
    for _ in range(tries):
        row = db.session.execute(_due(now)).first()
        db.session.rollback()  # end the read
        if row is None:
            return None
        claimed = _Claimed(*row)
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(
                OutboxMessage.id == claimed.id,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + CLAIM_LEASE)
        )
        db.session.commit()
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return claimed
    return None


def _claim(now: datetime) -> _Claimed | None:
    if on_postgresql():
        return _claim_locked(now)
    return _claim_leased(now)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = []
        for rcpt, (code, reply) in exc.recipients.items():
            text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
            parts.append(f"{rcpt}: {code} {text}")
        message = "recipient refused: " + "; ".join(parts)
    elif isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        message = f"{exc.smtp_code} {text}"
    else:
        message = str(exc) or exc.__class__.__name__
    return f"{exc.__class__.__name__}: {message}"[:ERROR_LENGTH]


def _record(
    claimed: _Claimed, error: BaseException | None, now: datetime, max_attempts: int
) -> str:
    """Write the outcome of one attempt and commit it; returns "sent", "retrying" or "failed"."""
    attempts = claimed.attempts + 1
    values: dict[str, Any] = {"attempts": attempts}
    if error is None:
        outcome = "sent"
        values.update(status=OutboxStatus.SENT, sent_at=utcnow(), last_error=None)
    elif attempts >= max_attempts:
        outcome = "failed"
        values.update(status=OutboxStatus.FAILED, last_error=_describe(error))
    else:
        outcome = "retrying"
        values.update(last_error=_describe(error), next_attempt_at=now + backoff(attempts))
    db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == claimed.id).values(**values)
    )
    db.session.commit()
    return outcome


def deliver_due(
    batch: int = 50,
    *,
    now: datetime | None = None,
    backend: Backend | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> DeliveryCounts:
    """Send up to ``batch`` due messages, committing after each; returns what happened.

    Runs in an application context and commits (first whatever the session holds, then after
    each message): call it with no unfinished work. ``now`` is for tests. ``should_stop`` is
    asked before each message (a worker stopping gracefully finishes the one it is sending).

    Delivery is at least once: a message is sent again only if the worker dies (or the
    database fails) between the server's acceptance and the commit that records it.
    """
    config = current_app.config
    max_attempts = int(config.get("MAIL_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS))
    counts = DeliveryCounts()
    db.session.commit()  # start from a clean transaction: claims are committed one by one
    deferred.render_pending(batch)  # messages of bulk changes, written now (committed)
    with backend or get_backend() as sender:
        for _ in range(batch):
            if should_stop is not None and should_stop():
                break
            when = now or utcnow()
            claimed = _claim(when)
            if claimed is None:
                break
            error: Exception | None = None
            try:
                data = wire_format(claimed.message)
                from_addr, to_addrs = envelope(data, claimed.recipient)
                sender.send(from_addr, to_addrs, data)
            except Exception as exc:  # every failure is retried; BaseException propagates
                error = exc
                log.warning("e-mail %s to %s not sent: %s", claimed.id, claimed.recipient, exc)
            outcome = _record(claimed, error, when, max_attempts)
            setattr(counts, outcome, getattr(counts, outcome) + 1)
    return counts


def retry(message: OutboxMessage) -> None:
    """Send a message again as soon as a worker runs (a failed one gets all its tries back).

    The caller commits.
    """
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
