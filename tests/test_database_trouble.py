"""When the database hangs, refuses or drops connections, pages answer 503 with Retry-After
(never a worker stuck for a minute, never a 500), and a read is retried once on a dropped
connection."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import on_postgres
from trainingmgr import create_app
from trainingmgr.core.permissions import public
from trainingmgr.extensions import db


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a half-open network)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def hung_database_app(silent_port: int, tmp_path: Path) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "hung",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}/test",
            "DATABASE_CONNECT_TIMEOUT": 2,
            "WTF_CSRF_ENABLED": False,
        }
    )


def test_a_database_that_never_answers_gives_503_with_retry_after_quickly(
    hung_database_app: Flask,
) -> None:
    client = hung_database_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:1:secret"  # a signed-in user: loading them needs the database

    started = time.monotonic()
    health = client.get("/healthz")
    page = client.get("/dashboard")
    as_json = client.get("/dashboard", headers={"Accept": "application/json"})
    form = client.post("/login", data={"email": "a@example.org", "password": "x" * 12})
    elapsed = time.monotonic() - started

    assert health.status_code == 503
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "30"
    assert "Briefly unavailable" in page.text and "Nothing was saved" in page.text
    assert as_json.status_code == 503 and as_json.json["error"] == "Briefly unavailable"
    assert form.status_code == 503
    # Four requests, each bounded by the connect timeout (2 s), not gunicorn's 60 s.
    assert elapsed < 40


def test_the_503_page_follows_the_browsers_language(hung_database_app: Flask) -> None:
    page = hung_database_app.test_client().post(
        "/login", data={"email": "a@example.org"}, headers={"Accept-Language": "ru"}
    )
    assert page.status_code == 503
    assert '<html lang="ru">' in page.text


@pytest.fixture
def flaky_app(app: Flask, tmp_path: Path, committed_db: Any) -> Iterator[tuple[Flask, list[str]]]:
    """An app on the suite's database with a page whose connection drops the first time."""
    flaky = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "flaky",
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": False,
        }
    )
    calls: list[str] = []

    @public
    def page() -> str:
        calls.append("call")
        if len(calls) == 1:
            drop_my_connection()
        return str(db.session.execute(sa.text("SELECT 42")).scalar())

    flaky.add_url_rule("/flaky", view_func=page, methods=["GET", "POST"])
    yield flaky, calls
    with flaky.app_context():
        db.engine.dispose()


def drop_my_connection() -> None:
    """Lose this request's database connection as a restart or a failover would."""
    if on_postgres():
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        killer = sa.create_engine(db.engine.url)
        with killer.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        killer.dispose()
        return
    # SQLite has no server to lose: raise what SQLAlchemy raises for a lost connection.
    raise sa.exc.OperationalError(
        "SELECT 42", {}, Exception("connection lost"), connection_invalidated=True
    )


def test_a_read_whose_connection_drops_is_run_again(flaky_app: tuple[Flask, list[str]]) -> None:
    flaky, calls = flaky_app
    response = flaky.test_client().get("/flaky")
    assert response.status_code == 200 and response.text == "42"
    assert len(calls) == 2


def test_a_write_whose_connection_drops_is_not_run_again(
    flaky_app: tuple[Flask, list[str]],
) -> None:
    flaky, calls = flaky_app
    response = flaky.test_client().post("/flaky")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert len(calls) == 1
