"""SQLite, the embedded default, made to take concurrent use (``make run``, small offices).

Every connection gets:

- ``foreign_keys=ON`` (SQLite enforces them only when asked);
- ``journal_mode=WAL``: readers never block the writer and the writer never blocks readers;
- ``busy_timeout``: a writer waits for the lock (up to ``BUSY_TIMEOUT_MS``) instead of
  failing at once with "database is locked";
- the driver's own transaction handling switched off, so that SQLAlchemy emits ``BEGIN``
  itself: SAVEPOINTs and transactional DDL then work as on PostgreSQL (SQLAlchemy's
  documented recipe for pysqlite).

Transactions begin with ``BEGIN IMMEDIATE``, which takes the write lock at once. With a plain
(deferred) ``BEGIN``, a request that reads and then writes cannot wait for the lock: when
another connection (the in-process mail delivery, another request) wrote in between, SQLite
answers "database is locked" immediately, whatever the busy timeout, because the reader's
snapshot is stale. Taking the lock first makes concurrent writers queue instead. Rails and
Django (``transaction_mode="IMMEDIATE"``) do the same for SQLite web servers.

The test suite's own connections keep deferred transactions (``immediate=False``): a test
that reads while a browser drives a live server must not hold the server's write lock.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 10_000

_deferred: weakref.WeakSet[Engine] = weakref.WeakSet()


def use_deferred_transactions(engine: Engine) -> None:
    """Let ``engine`` begin with a plain ``BEGIN`` (tests reading beside a live server)."""
    _deferred.add(engine)


@event.listens_for(Engine, "connect")
def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")  # "memory" for an in-memory database
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable with WAL, and fewer fsyncs
        cursor.close()


@event.listens_for(Engine, "begin")
def _begin(conn: Any) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN" if conn.engine in _deferred else "BEGIN IMMEDIATE")
