"""Restoring a backup: checked first (``verify``), then SQLite restored with the backup API
in one step, PostgreSQL with ``psql --single-transaction`` after dropping the target's
tables. A failed restore leaves the target as it was.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from trainingmgr.ops.backup.common import (
    BackupError,
    Manifest,
    _libpq,
    _quote,
    _run,
    _tool,
    kind_of,
)
from trainingmgr.ops.backup.verify import (
    _check_restored,
    _check_sqlite,
    _extract,
    _refuse_unusable,
    describe_backup,
    describe_target,
    inspect_target,
    read_manifest,
)


def restore_backup(
    engine: Engine,
    path: Path,
    *,
    force: bool = False,
    echo: Callable[[str], Any] = print,
) -> Manifest:
    """Restore the backup at ``path`` into ``engine``'s database, after saying what it does.

    The backup is checked completely first (manifest, kind of database, schema revision,
    checksum, readable database); then the target (not empty: refused unless ``force``).
    Any refusal raises ``BackupError`` and changes nothing.
    """
    path = Path(path)
    manifest = read_manifest(path)
    kind = kind_of(engine)
    for line in describe_backup(path, manifest):
        echo(line)
    _refuse_unusable(manifest, kind)
    workdir = _sqlite_path(engine).parent if kind == "sqlite" else None
    with tempfile.TemporaryDirectory(prefix="trainingmgr-restore-", dir=workdir) as tmp:
        payload = _extract(path, manifest, Path(tmp))
        if kind == "sqlite":
            _check_sqlite(path, payload)
        else:
            payload = _postgresql_script(path, payload)
        target = inspect_target(engine)
        for line in describe_target(target):
            echo(line)
        if not target.empty and not force:
            raise BackupError(
                "The target database is not empty. Nothing was changed. To replace everything "
                "in it with the backup, run the command again with --force."
            )
        echo(
            "Replacing the target's contents with the backup..."
            if not target.empty
            else "Restoring the backup into the target..."
        )
        engine.dispose()  # no pooled connection keeps the old database open
        if kind == "sqlite":
            _restore_sqlite(engine, payload)
        else:
            _restore_postgresql(engine, payload)
        engine.dispose()
    _check_restored(engine, manifest, echo)
    return manifest


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(
            "The target is an in-memory SQLite database; restore into a database file "
            "(set DATABASE_URL=sqlite:////path/to/file.sqlite3)."
        )
    return Path(database).resolve()


def _restore_sqlite(engine: Engine, payload: Path) -> None:
    source = sqlite3.connect(payload)
    try:
        destination = sqlite3.connect(_sqlite_path(engine), timeout=30)
        try:
            # One step: the target's content is replaced in a single transaction.
            source.backup(destination)
        except sqlite3.Error as exc:
            raise BackupError(
                f"The restore failed ({exc}); the target was left as it was. Stop the "
                "application (it may be holding the database) and try again."
            ) from exc
        finally:
            destination.close()
    finally:
        source.close()


def _drop_statements(engine: Engine) -> list[str]:
    """SQL that empties the target's schema of the objects a restore recreates."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        schema = inspector.default_schema_name or "public"

        def qualified(name: str) -> str:
            return f"{_quote(conn, schema)}.{_quote(conn, name)}"

        statements = [
            f"DROP VIEW IF EXISTS {qualified(n)} CASCADE;" for n in inspector.get_view_names()
        ]
        statements += [
            f"DROP TABLE IF EXISTS {qualified(n)} CASCADE;" for n in inspector.get_table_names()
        ]
        statements += [
            f"DROP SEQUENCE IF EXISTS {qualified(n)} CASCADE;"
            for n in inspector.get_sequence_names()
        ]
        statements += [
            f"DROP TYPE IF EXISTS {qualified(e['name'])} CASCADE;"
            for e in inspector.get_enums()  # type: ignore[attr-defined]
        ]
        # The schema's own functions (the attendance totals' triggers), not an extension's.
        functions = conn.execute(
            sa.text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p "
                "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :schema "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d "
                "WHERE d.objid = p.oid AND d.deptype = 'e')"
            ),
            {"schema": schema},
        ).scalars()
        statements += [f"DROP FUNCTION IF EXISTS {f} CASCADE;" for f in functions]
    return statements


def _postgresql_script(path: Path, dump: Path) -> Path:
    """The dump as SQL (pg_restore reads it without touching any database)."""
    pg_restore = _tool("pg_restore")
    _tool("psql")
    script = dump.with_name("restore.sql")
    try:
        _run(
            [pg_restore, "--no-owner", "--no-privileges", f"--file={script}", str(dump)],
            None,
            "Reading the PostgreSQL dump (pg_restore)",
        )
    except BackupError as exc:
        raise BackupError(f"{path} is damaged: {exc} Nothing was changed.") from exc
    return script


def _restore_postgresql(engine: Engine, script: Path) -> None:
    """Drop the target's tables and run ``script``, all in one transaction."""
    conninfo, env = _libpq(engine.url)
    prelude = script.with_name("prelude.sql")
    prelude.write_text("\n".join(_drop_statements(engine)) + "\n", encoding="utf-8")
    try:
        _run(
            [
                _tool("psql"),
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                f"--file={prelude}",
                f"--file={script}",
                f"--dbname={conninfo}",
            ],
            env,
            "Restoring with psql",
        )
    except BackupError as exc:
        raise BackupError(f"{exc} The target was left as it was.") from exc
