"""Delivering the outbox to a real SMTP server on loopback: what arrives, retries with
backoff when the server refuses or is down, giving up, and never sending a message twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from flask import Flask

from tests.conftest import on_postgres
from tests.mail_fixtures import HOST, RecordingHandler, SMTPServer, course, free_port, smtp_server
from trainingmgr.core.types import utcnow
from trainingmgr.enrolments import services as enrolments
from trainingmgr.extensions import db
from trainingmgr.mail import delivery
from trainingmgr.mail.models import OutboxMessage, OutboxStatus
from trainingmgr.mail.services import address, queue

__all__ = ["smtp_server"]  # the fixture, imported for the tests below

NON_LATIN = [("Ləman", "Əliyeva"), ("Иван", "Петров"), ("ნინო", "")]


def outbox_rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def queue_plain(to: str, subject: str = "Hello", text: str = "Hello.") -> OutboxMessage:
    row = queue("test", to, subject, text, f"<p>{text}</p>")
    db.session.flush()
    return row


# --------------------------------------------------------------------------- what arrives


def test_an_enrolment_confirmation_arrives_with_both_parts_and_the_schedule(
    db_session: Any, make: Any, smtp_server: SMTPServer
) -> None:
    cohort = course(make)
    person = make.person(first_name="Ləman", last_name="Əliyeva", email="leman@example.org")
    enrolments.enrol(cohort.id, person.id, actor=None)
    db_session.commit()

    counts = delivery.deliver_due()

    assert (counts.sent, counts.retrying, counts.failed) == (1, 0, 0)
    [got] = smtp_server.received
    assert got.rcpt_tos == ["leman@example.org"]
    assert got.mail_from == "no-reply@localhost"
    msg = got.message
    assert msg["To"] == "Ləman Əliyeva <leman@example.org>"
    assert msg["Subject"] == "You are enrolled: Управление миграцией, Bakı 2030"
    assert msg["Message-ID"] and msg["Date"]
    text = msg.get_body(("plain",)).get_content()
    assert "Dear Ləman Əliyeva," in text
    assert "09:00–12:00: Day 1" in text  # 05:00 UTC is 09:00 in Baku
    assert "https://training.example.org/" in text
    html = msg.get_body(("html",)).get_content()
    assert "Ləman Əliyeva" in html and "09:00–12:00" in html and '<html lang="en">' in html

    [attachment] = list(msg.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename().endswith(".ics")
    calendar = icalendar.Calendar.from_ical(attachment.get_payload(decode=True))
    events = sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))
    assert [str(e["summary"]) for e in events] == ["Day 1", "Day 2", "Day 3"]
    first = events[0].decoded("dtstart")
    assert (first.hour, str(first.tzinfo)) == (9, "Asia/Baku")
    assert first.astimezone(UTC) == datetime(2030, 3, 4, 5, 0, tzinfo=UTC)

    [row] = outbox_rows()
    assert row.status == OutboxStatus.SENT and row.sent_at is not None
    assert (row.attempts, row.last_error) == (1, None)


@pytest.mark.parametrize(("first", "last"), NON_LATIN)
def test_non_latin_names_are_encoded_in_headers_and_read_back_intact(
    db_session: Any, make: Any, smtp_server: SMTPServer, first: str, last: str
) -> None:
    cohort = course(make, sessions=1)
    person = make.person(first_name=first, last_name=last)
    enrolments.enrol(cohort.id, person.id, actor=None)
    db_session.commit()

    delivery.deliver_due()

    [got] = smtp_server.received
    assert got.data.isascii()  # 7-bit on the wire: RFC 2047 headers, base64 bodies
    name = " ".join(p for p in (first, last) if p)
    assert got.message["To"] == f"{name} <{person.email}>"
    assert "Управление миграцией" in got.message["Subject"]
    assert f"Dear {name}," in got.message.get_body(("plain",)).get_content()
    assert f"Dear {name}," in got.message.get_body(("html",)).get_content()


def test_line_breaks_cannot_add_headers(db_session: Any, smtp_server: SMTPServer) -> None:
    to = address("Eve\r\nBcc: evil@example.org", "a@example.org")
    queue("test", to, "Hi\r\nBcc: evil@example.org", "x")
    db_session.commit()

    delivery.deliver_due()

    [got] = smtp_server.received
    assert got.rcpt_tos == ["a@example.org"]
    assert got.message["Bcc"] is None
    assert got.message["To"].addresses[0].addr_spec == "a@example.org"
    assert got.message["Subject"] == "Hi Bcc: evil@example.org"
    assert outbox_rows()[0].subject == "Hi Bcc: evil@example.org"


# --------------------------------------------------------------------------- failures


def test_a_refusing_server_leaves_the_message_pending_until_it_accepts(
    db_session: Any, smtp_server: SMTPServer
) -> None:
    row = queue_plain(address("Иван Петров", "ivan@example.org"))
    db_session.commit()
    smtp_server.refuse("550 5.7.1 Mailbox unavailable for the test")
    now = utcnow()

    counts = delivery.deliver_due(now=now)

    assert (counts.sent, counts.retrying) == (0, 1)
    assert smtp_server.received == []
    [row] = outbox_rows()
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert "550" in row.last_error and "Mailbox unavailable" in row.last_error
    assert row.next_attempt_at == now + timedelta(minutes=1)
    assert delivery.deliver_due(now=now + timedelta(seconds=30)).attempted == 0  # not yet

    smtp_server.accept()
    counts = delivery.deliver_due(now=now + timedelta(minutes=1))

    assert counts.sent == 1
    [got] = smtp_server.received
    assert got.message["To"] == "Иван Петров <ivan@example.org>"
    [row] = outbox_rows()
    assert row.status == OutboxStatus.SENT and row.attempts == 2 and row.last_error is None


def test_a_server_that_is_down_leaves_the_message_pending_until_it_is_back(
    db_session: Any, smtp_server: SMTPServer
) -> None:
    queue_plain("ninо@example.org".replace("о", "o"), subject="ნინო")
    db_session.commit()
    smtp_server.stop()
    now = utcnow()

    counts = delivery.deliver_due(now=now)

    assert counts.retrying == 1
    [row] = outbox_rows()
    assert row.status == OutboxStatus.PENDING and row.attempts == 1
    assert "ConnectionRefused" in row.last_error

    smtp_server.start()
    assert delivery.deliver_due(now=now + timedelta(minutes=1)).sent == 1
    [got] = smtp_server.received
    assert got.message["Subject"] == "ნინო"
    assert outbox_rows()[0].status == OutboxStatus.SENT


def test_retries_back_off_exponentially_then_give_up(
    app: Flask, db_session: Any, smtp_server: SMTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 4)
    queue_plain("someone@example.org")
    db_session.commit()
    smtp_server.stop()
    now = utcnow()
    waits = []
    for _ in range(3):
        assert delivery.deliver_due(now=now).retrying == 1
        [row] = outbox_rows()
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at

    counts = delivery.deliver_due(now=now)

    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert counts.failed == 1
    [row] = outbox_rows()
    assert row.status == OutboxStatus.FAILED and row.attempts == 4
    assert row.last_error
    smtp_server.start()
    assert delivery.deliver_due(now=now + timedelta(days=1)).attempted == 0  # given up
    assert smtp_server.received == []


def test_backoff_is_capped_at_an_hour() -> None:
    assert [delivery.backoff(n) for n in (1, 2, 3, 6, 7, 20)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=32),
        timedelta(hours=1),
        timedelta(hours=1),
    ]


class RefuseOne(RecordingHandler):
    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if address == self.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_one_refused_recipient_does_not_hold_back_the_others(
    app: Flask, db_session: Any, smtp_server: SMTPServer
) -> None:
    smtp_server.stop()
    smtp_server.handler = RefuseOne("bad@example.org")
    smtp_server.start()
    for to in ("a@example.org", "bad@example.org", "c@example.org"):
        queue_plain(to)
    db_session.commit()

    counts = delivery.deliver_due()

    assert (counts.sent, counts.retrying) == (2, 1)
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "a@example.org",
        "c@example.org",
    ]
    rows = {r.recipient: r for r in outbox_rows()}
    assert rows["a@example.org"].status == rows["c@example.org"].status == OutboxStatus.SENT
    bad = rows["bad@example.org"]
    assert bad.status == OutboxStatus.PENDING
    assert "recipient refused" in bad.last_error and "No such user" in bad.last_error


class Crash(BaseException):
    """Stands for the worker being killed in the middle of a send."""


class CrashingBackend:
    def __enter__(self) -> CrashingBackend:
        return self

    def __exit__(self, *_exc: Any) -> None:
        return None

    def send(self, _sender: str, _recipients: list[str], _data: bytes) -> None:
        raise Crash


def test_a_delivery_that_crashes_midway_is_not_lost(
    db_session: Any, smtp_server: SMTPServer
) -> None:
    queue_plain("someone@example.org", subject="Still here")
    db_session.commit()
    now = utcnow()

    with pytest.raises(Crash):
        delivery.deliver_due(now=now, backend=CrashingBackend())
    db_session.rollback()  # what the dead worker's connection does

    [row] = outbox_rows()
    assert row.status == OutboxStatus.PENDING and row.sent_at is None
    # On SQLite the message was claimed for a while (the lease); on PostgreSQL the lock went
    # with the transaction. Either way a later round sends it, once.
    counts = delivery.deliver_due(now=now + delivery.CLAIM_LEASE + timedelta(seconds=1))
    assert counts.sent == 1
    [got] = smtp_server.received
    assert got.message["Subject"] == "Still here"
    assert outbox_rows()[0].status == OutboxStatus.SENT


def test_smtp_login_is_used_when_a_username_is_set(
    app: Flask, db_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    logins: list[tuple[str, str]] = []

    def text(value: str | bytes) -> str:
        return value.decode() if isinstance(value, bytes) else value

    def authenticator(*args: Any) -> AuthResult:
        data = args[-1]  # (server, session, envelope, mechanism, login and password)
        logins.append((text(data.login), text(data.password)))
        return AuthResult(success=text(data.password) == "s3cret", handled=False)

    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler, hostname=HOST, port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        for key, value in {
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": HOST,
            "MAIL_PORT": port,
            "MAIL_USERNAME": "mailer",
            "MAIL_PASSWORD": "wrong",
        }.items():
            monkeypatch.setitem(app.config, key, value)
        queue_plain("someone@example.org")
        db_session.commit()
        now = utcnow()

        assert delivery.deliver_due(now=now).retrying == 1
        assert "535" in outbox_rows()[0].last_error  # authentication failed

        monkeypatch.setitem(app.config, "MAIL_PASSWORD", "s3cret")
        assert delivery.deliver_due(now=now + timedelta(minutes=1)).sent == 1
    finally:
        controller.stop()
    # smtplib tries each mechanism the server offers before giving up with a password.
    assert logins[0] == ("mailer", "wrong") and logins[-1] == ("mailer", "s3cret")
    assert {password for _login, password in logins} == {"wrong", "s3cret"}
    assert len(handler.received) == 1


# --------------------------------------------------------------------------- other backends


def test_the_console_backend_prints_a_readable_message(
    app: Flask, db_session: Any, make: Any, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "console")
    cohort = course(make, sessions=1)
    person = make.person(first_name="Иван", last_name="Петров")
    enrolments.enrol(cohort.id, person.id, actor=None)
    db_session.commit()

    assert delivery.deliver_due().sent == 1

    out = capsys.readouterr().out
    assert f"To: Иван Петров <{person.email}>" in out
    assert "Subject: You are enrolled: Управление миграцией, Bakı 2030" in out
    assert "Dear Иван Петров," in out
    assert "[attachment: " in out and ".ics (text/calendar)]" in out


def test_the_memory_backend_keeps_messages_for_tests(db_session: Any) -> None:
    delivery.MEMORY_OUTBOX.clear()
    queue_plain("ninо@example.org".replace("о", "o"), subject="ნინო")
    db_session.commit()

    assert delivery.deliver_due().sent == 1

    [sent] = delivery.MEMORY_OUTBOX
    assert sent.recipients == ["nino@example.org"]
    assert sent.message["Subject"] == "ნინო"
    delivery.MEMORY_OUTBOX.clear()


def test_an_unknown_backend_is_named_in_the_error(
    app: Flask, db_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "carrier-pigeon")
    with pytest.raises(ValueError, match="MAIL_BACKEND must be one of console, memory, smtp"):
        delivery.deliver_due()


# --------------------------------------------------------------------------- two workers


def _drain(app: Flask, barrier: threading.Barrier, out: list[Any]) -> None:
    try:
        barrier.wait(timeout=10)
        total = delivery.DeliveryCounts()
        with app.app_context():
            try:
                while True:
                    counts = delivery.deliver_due(batch=5)
                    total += counts
                    if counts.attempted == 0:
                        break
            finally:
                db.session.remove()
        out.append(total)
    except Exception as exc:  # reported by the test
        out.append(exc)


def test_two_workers_draining_one_outbox_send_each_message_exactly_once(
    app: Flask, committed_db: Any, smtp_server: SMTPServer
) -> None:
    """Two workers at once (threads, each with its own session and connection): on
    PostgreSQL rows are locked with SKIP LOCKED, on SQLite claimed with a conditional
    update. Every message reaches the server exactly once."""
    smtp_server.handler.delay = 0.005  # a send takes a moment, so the workers interleave
    for n in range(40):
        queue("test", f"person{n}@example.org", f"Message {n}", f"Text {n}")
    committed_db.commit()
    committed_db.close()  # nothing left open here (SQLite would stay locked)
    barrier = threading.Barrier(2)
    results: list[Any] = []
    workers = [threading.Thread(target=_drain, args=(app, barrier, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert not [r for r in results if isinstance(r, Exception)], results
    received = smtp_server.received
    message_ids = [r.message_id for r in received]
    assert len(received) == 40
    assert len(set(message_ids)) == 40
    assert sorted(r.message["Subject"] for r in received) == sorted(
        f"Message {n}" for n in range(40)
    )
    assert sum(r.sent for r in results) == 40
    if on_postgres():
        assert all(r.sent > 0 for r in results)  # both took part
    rows = outbox_rows()
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert {r.attempts for r in rows} == {1}
