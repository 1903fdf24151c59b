"""The Alembic migrations build exactly the schema the models describe.

Each run checks its own database: a temporary SQLite file, or (when the suite runs on
PostgreSQL) a fresh schema in the test database, dropped afterwards. Neither touches the
tables the rest of the suite uses.
"""

from __future__ import annotations

import logging.config
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from tests.conftest import on_postgres
from trainingmgr import create_app
from trainingmgr.config import ROOT, normalise_database_url
from trainingmgr.extensions import db, include_object_for


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of the suite's kind, removed after the test."""
    if not on_postgres():
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    base = normalise_database_url(os.environ["TEST_DATABASE_URL"])
    schema = f"migcheck_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def migrated_app(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Flask]:
    # migrations/env.py configures logging from alembic.ini, which would disable the app's
    # loggers for the rest of the test run.
    monkeypatch.setattr(logging.config, "fileConfig", lambda *_a, **_k: None)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "migrations",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": fresh_database_url,
        }
    )
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _head() -> str:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    return heads[0]


def _differences() -> list[object]:
    with db.engine.connect() as conn:
        opts = {"compare_type": True, "include_object": include_object_for(conn.dialect.name)}
        context = MigrationContext.configure(conn, opts=opts)
        return compare_metadata(context, db.metadata)


def _tables() -> set[str]:
    with db.engine.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def test_migrations_build_the_schema_of_the_models(migrated_app: Flask) -> None:
    assert _tables() == set()  # a fresh, separate database
    flask_migrate.upgrade()
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == _head()
    assert _tables() == set(db.metadata.tables) | {"alembic_version"}
    differences = _differences()
    assert differences == [], (
        "models and migrations disagree; generate a migration with "
        "`flask --app app db migrate`:\n" + "\n".join(map(repr, differences))
    )


def test_migrations_can_be_undone(migrated_app: Flask) -> None:
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    assert _tables() <= {"alembic_version"}
    flask_migrate.upgrade()  # and redone
    assert _differences() == []
