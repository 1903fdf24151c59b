"""Shared fixtures: the app on SQLite or PostgreSQL, isolated tests, sign-in per role.

The database is SQLite in a temporary file unless ``TEST_DATABASE_URL`` is set (then the
whole suite runs on that PostgreSQL database). Each test runs inside a transaction that
is rolled back at the end (``db_session``); tests that need real commits seen by other
threads (the browser tests, concurrency tests) use ``committed_db``, which empties every
table afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, g, request_started
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession

from tests import factories
from trainingmgr import create_app
from trainingmgr.accounts import sessions
from trainingmgr.accounts.models import Role, User
from trainingmgr.core import sqlite
from trainingmgr.core.cache import forget_all
from trainingmgr.extensions import db, limiter

DATA = Path(__file__).parent / "data"


def database_url(tmp_dir: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.sqlite3'}"


def on_postgres() -> bool:
    return bool(os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"))


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp("instance")
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "INSTANCE_PATH": str(tmp),
            "SQLALCHEMY_DATABASE_URI": database_url(tmp),
            "WTF_CSRF_ENABLED": False,
            "BASE_URL": "https://training.example.org",
            "MAIL_BACKEND": "memory",
            "SERVER_NAME": None,
        }
    )
    with application.app_context():
        # The test's own reads must not hold the write lock of a live server (browser tests).
        sqlite.use_deferred_transactions(db.engine)
        db.drop_all()
        _drop_alembic_version()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _drop_alembic_version() -> None:
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


class _ConnectionSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's session picks the app's engine for every statement, ignoring
    ``bind``: this one always uses the test's connection, so its commits stay savepoints."""

    def get_bind(self, *_args: Any, **_kwargs: Any) -> Any:
        return self.bind


@pytest.fixture
def db_session(app: Flask) -> Iterator[Any]:
    """A session whose every commit is a SAVEPOINT inside one transaction rolled back."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _ConnectionSession,
            }
        )
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            if transaction.is_active:
                transaction.rollback()
            connection.close()
            forget_all()  # figures cached from rows this test wrote (core.cache)


@pytest.fixture
def committed_db(app: Flask) -> Iterator[Any]:
    """Real commits (visible to other threads); every table is emptied afterwards."""
    with app.app_context():
        yield db.session
        db.session.remove()
        empty_all_tables()
        forget_all()


def empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(sa.text(f"DELETE FROM {name}"))


@pytest.fixture
def client(app: Flask, db_session: Any) -> Iterator[FlaskClient]:
    """A test client. The test's app context is shared by its requests (so they see the
    test's session), but each request starts as in production: with an empty ``g`` (else the
    signed-in user, ``g._login_user``, would leak from one request to the next) and with the
    test's data committed (a savepoint), so a view that rolls back undoes only its own work.
    """

    def fresh_request(_sender: Any, **_extra: Any) -> None:
        g.__dict__.clear()
        factories.sync_coordinators()
        db_session.commit()

    limiter.reset()  # rate limits count per test, not across the run
    with request_started.connected_to(fresh_request, app):
        yield app.test_client()


@pytest.fixture(autouse=True)
def _forget_coordinators() -> Iterator[None]:
    """The coordinators of "every programme of the test" are the current test's only."""
    yield
    factories.everything.clear()


@pytest.fixture
def make() -> Any:
    """The factories module (``make.person(...)``, ``make.cohort(...)`` ...)."""
    return factories


@pytest.fixture
def login(client: FlaskClient) -> Callable[..., User]:
    """Sign the test client in as a new user with ``role`` (or as ``user``).

    A coordinator (new, or a ``user`` with no programme yet) coordinates every programme of
    the test unless ``programmes=[...]`` is given or the test assigns their programmes itself
    (see ``tests/factories.py``).
    """

    def _login(role: Role | str | None = None, user: User | None = None, **kw: Any) -> User:
        if user is None:
            user = factories.user(role=Role(role or Role.COORDINATOR), **kw)
            if "programmes" not in kw and Role.COORDINATOR in user.roles:
                factories.coordinates_everything(user)
        elif Role.COORDINATOR in user.roles and not user.programmes:
            factories.coordinates_everything(user)
        session_id = sessions.start(user)  # a real server-side sign-in, as the sign-in page makes
        with client.session_transaction() as sess:
            sess["_user_id"] = session_id
            sess["_fresh"] = True
        return user

    return _login


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], Any]:
    """``with count_queries() as q: ...`` then ``q.count`` is the number of SQL statements."""

    @contextmanager
    def _count() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if factories.everything.syncing:  # the test's own set-up, not the app's work
                return
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
                counter.statements.append(statement)

        sa.event.listen(sa.engine.Engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", before)

    return _count
