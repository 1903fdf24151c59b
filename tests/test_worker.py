"""The delivery worker: ``flask worker --once``, the long-running command stopping cleanly
on SIGTERM, and the in-process thread of ``make run``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.mail_fixtures import SMTPServer, smtp_server
from trainingmgr import create_app
from trainingmgr.config import ROOT
from trainingmgr.extensions import db
from trainingmgr.mail import delivery
from trainingmgr.mail import worker as mail_worker
from trainingmgr.mail.models import OutboxMessage, OutboxStatus
from trainingmgr.mail.services import queue

__all__ = ["smtp_server"]  # the fixture, imported for the tests below


def statuses() -> dict[str, OutboxStatus]:
    """Each message's status, read in a transaction closed at once (SQLite would otherwise
    keep a read lock that stops the worker from writing)."""
    db.session.expire_all()
    result = {
        m.recipient: m.status
        for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
    }
    db.session.rollback()
    return result


def queue_and_commit(session: Any, *recipients: str) -> None:
    for to in recipients:
        queue("test", to, f"For {to}", "Hello.")
    session.commit()
    session.close()


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


# --------------------------------------------------------------------------- flask worker --once


def test_worker_once_sends_everything_due_then_exits(
    app: Flask, committed_db: Any, smtp_server: SMTPServer
) -> None:
    queue_and_commit(committed_db, "a@example.org", "b@example.org", "c@example.org")

    result = app.test_cli_runner().invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "E-mail: sent 3, to retry later 0, failed (gave up) 0." in result.output
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    assert set(statuses().values()) == {OutboxStatus.SENT}


def test_worker_once_reports_messages_left_for_a_later_try(
    app: Flask, committed_db: Any, smtp_server: SMTPServer
) -> None:
    queue_and_commit(committed_db, "a@example.org")
    smtp_server.stop()

    result = app.test_cli_runner().invoke(args=["worker", "--once"])

    assert result.exit_code == 0, result.output
    assert "E-mail: sent 0, to retry later 1, failed (gave up) 0." in result.output
    assert statuses() == {"a@example.org": OutboxStatus.PENDING}


def test_worker_with_a_bad_backend_says_what_to_fix(
    app: Flask, committed_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtps")
    queue_and_commit(committed_db, "a@example.org")

    result = app.test_cli_runner().invoke(args=["worker", "--once"])

    assert result.exit_code == 1
    assert "MAIL_BACKEND must be one of console, memory, smtp, not 'smtps'" in result.output
    assert statuses() == {"a@example.org": OutboxStatus.PENDING}


# --------------------------------------------------------------------------- a real process


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Flask]:
    """An application on its own SQLite file, for a worker process to share."""
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
            "MAIL_BACKEND": "console",
        }
    )
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_worker_process_delivers_as_messages_arrive_and_stops_on_sigterm(
    sqlite_app: Flask, tmp_path: Path
) -> None:
    with sqlite_app.app_context():
        queue_and_commit(db.session, "first@example.org")
    env = {
        **os.environ,
        "DATABASE_URL": sqlite_app.config["SQLALCHEMY_DATABASE_URI"],
        "INSTANCE_PATH": str(tmp_path),
        "SECRET_KEY": "test-secret-key",
        "MAIL_BACKEND": "console",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("MAIL_DELIVERY_IN_PROCESS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "worker", "--poll", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def sent(recipient: str) -> Callable[[], bool]:
            def check() -> bool:
                with sqlite_app.app_context():
                    return statuses().get(recipient) == OutboxStatus.SENT

            return check

        assert wait_for(sent("first@example.org")), "the worker did not send the first message"
        with sqlite_app.app_context():
            queue_and_commit(db.session, "second@example.org")
        assert wait_for(sent("second@example.org")), "the worker did not pick up new mail"

        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, output
    assert "E-mail worker started (backend: console)" in output
    assert "E-mail to first@example.org" in output  # the console backend's print
    assert "E-mail to second@example.org" in output
    assert "Received SIGTERM: stopping after this message." in output
    assert "E-mail worker stopped (sent 2, to retry later 0, failed (gave up) 0)." in output


# --------------------------------------------------------------------------- in-process (make run)


def test_the_in_process_worker_delivers_and_stops(app: Flask, committed_db: Any) -> None:
    delivery.MEMORY_OUTBOX.clear()
    queue_and_commit(committed_db, "inprocess@example.org")

    worker = mail_worker.InProcessWorker(app).start()
    try:
        assert wait_for(lambda: statuses().get("inprocess@example.org") == OutboxStatus.SENT)
    finally:
        worker.stop()
    assert not worker.thread.is_alive()
    assert [m.recipients for m in delivery.MEMORY_OUTBOX] == [["inprocess@example.org"]]
    delivery.MEMORY_OUTBOX.clear()


def test_make_run_starts_delivery_with_the_first_request_only_when_configured(
    app: Flask, committed_db: Any, tmp_path: Path
) -> None:
    delivery.MEMORY_OUTBOX.clear()
    queue_and_commit(committed_db, "served@example.org")
    served = create_app(
        {
            "SECRET_KEY": "test-secret-key",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "MAIL_BACKEND": "memory",
            "MAIL_DELIVERY_IN_PROCESS": True,
            "WORKER_POLL_SECONDS": 1,
        }
    )
    assert mail_worker.EXTENSION_KEY not in served.extensions  # nothing before serving

    served.test_client().get("/")

    worker = served.extensions[mail_worker.EXTENSION_KEY]
    try:
        assert wait_for(lambda: statuses().get("served@example.org") == OutboxStatus.SENT)
        served.test_client().get("/")
        assert served.extensions[mail_worker.EXTENSION_KEY] is worker  # still one thread
    finally:
        worker.stop()
        with served.app_context():
            db.engine.dispose()
    assert [m.recipients for m in delivery.MEMORY_OUTBOX] == [["served@example.org"]]
    delivery.MEMORY_OUTBOX.clear()
    # The tests' own application never delivers by itself.
    assert mail_worker.EXTENSION_KEY not in app.extensions
