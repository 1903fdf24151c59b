"""Making a backup: SQLite copied with its online backup API, PostgreSQL dumped with
``pg_dump`` in the snapshot its rows were counted in, written as one zip archive.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from trainingmgr.ops.backup.common import (
    ALEMBIC_TABLE,
    MANIFEST,
    PAYLOADS,
    BackupError,
    Manifest,
    _count_tables,
    _libpq,
    _now,
    _revision,
    _run,
    _sha256,
    _tool,
    _version,
    kind_of,
)


def create_backup(engine: Engine, out: Path) -> Manifest:
    """Write a backup of ``engine``'s database to ``out`` (which must not exist yet)."""
    kind = kind_of(engine)
    out = Path(out)
    if out.exists():
        raise BackupError(f"{out} already exists; choose another file name.")
    if not out.parent.is_dir():
        raise BackupError(f"The folder {out.parent} does not exist.")
    with tempfile.TemporaryDirectory(prefix="trainingmgr-backup-") as tmp:
        payload = Path(tmp) / PAYLOADS[kind]
        if kind == "sqlite":
            tables, revision = _dump_sqlite(engine, payload)
        else:
            tables, revision = _dump_postgresql(engine, payload)
        manifest = Manifest(
            database=kind,
            created_at=_now(),
            alembic_revision=revision,
            tables=tables,
            payload=PAYLOADS[kind],
            sha256=_sha256(payload),
            trainingmgr_version=_version(),
        )
        _write_archive(out, manifest, payload)
    return manifest


def _write_archive(out: Path, manifest: Manifest, payload: Path) -> None:
    """Write the zip next to ``out`` (readable by its owner only), then move it in place."""
    handle, partial = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        compression = zipfile.ZIP_DEFLATED if manifest.database == "sqlite" else zipfile.ZIP_STORED
        with zipfile.ZipFile(partial, "w", compression=compression) as archive:
            archive.writestr(MANIFEST, manifest.to_json())
            archive.write(payload, manifest.payload)
        os.chmod(partial, 0o600)
        os.replace(partial, out)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _sqlite_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return [name for (name,) in rows]


def _sqlite_counts(path: Path) -> tuple[dict[str, int], str | None]:
    conn = sqlite3.connect(path)
    try:
        counts = {
            name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            for name in sorted(_sqlite_tables(conn))
        }
        revision = None
        if ALEMBIC_TABLE in counts:
            row = conn.execute(f"SELECT version_num FROM {ALEMBIC_TABLE}").fetchone()
            revision = row[0] if row else None
        return counts, revision
    finally:
        conn.close()


def _dump_sqlite(engine: Engine, payload: Path) -> tuple[dict[str, int], str | None]:
    raw = engine.raw_connection()
    try:
        copy = sqlite3.connect(payload)
        try:
            raw.driver_connection.backup(copy)  # type: ignore[union-attr]
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise BackupError(f"The SQLite backup failed: {exc}") from exc
    finally:
        raw.close()
    # Counted in the copy: exactly what the backup holds.
    return _sqlite_counts(payload)


def _dump_postgresql(engine: Engine, payload: Path) -> tuple[dict[str, int], str | None]:
    pg_dump = _tool("pg_dump")
    conninfo, env = _libpq(engine.url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            # pg_dump reads the snapshot this transaction counted the rows in.
            conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
            tables = _count_tables(conn, sa.inspect(conn).get_table_names())
            revision = _revision(conn, tables)
            _run(
                [
                    pg_dump,
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={payload}",
                    f"--dbname={conninfo}",
                ],
                env,
                "pg_dump",
            )
    except sa.exc.SQLAlchemyError as exc:
        raise BackupError(f"Cannot read the database: {exc.__class__.__name__}: {exc}") from exc
    return tables, revision
