"""Checking a backup and a target before and after a restore: the manifest, the archive's
checksum and database, the kind of database and schema revision, the target's contents,
and the row counts once restored. Every refusal changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from trainingmgr.ops.backup import common
from trainingmgr.ops.backup.common import BackupError, Manifest, Target


def inspect_target(engine: Engine) -> Target:
    """The target's tables with their row counts (and its schema revision)."""
    kind = common.kind_of(engine)
    target = Target(kind=kind, url=common.display_url(engine.url))
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            target.tables = common._count_tables(conn, names)
            target.alembic_revision = common._revision(conn, target.tables)
    except sa.exc.SQLAlchemyError as exc:
        raise BackupError(
            f"Cannot read the target database {target.url}: {exc.__class__.__name__}: "
            f"{str(getattr(exc, 'orig', exc)).strip()}"
        ) from exc
    return target


def _not_a_backup(path: Path, why: str) -> BackupError:
    return BackupError(
        f"{path} is not a trainingmgr backup ({why}). Backups are the .zip files made by "
        "`flask --app app backup`. Nothing was changed."
    )


def read_manifest(path: Path) -> Manifest:
    """The manifest of the backup at ``path``; ``BackupError`` if it is not a usable one."""
    if not path.is_file():
        raise BackupError(f"There is no file {path}. Nothing was changed.")
    if not zipfile.is_zipfile(path):
        raise _not_a_backup(path, "it is not a zip archive")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if common.MANIFEST not in names:
                raise _not_a_backup(path, f"the zip archive has no {common.MANIFEST}")
            raw = archive.read(common.MANIFEST)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _not_a_backup(path, f"the zip archive cannot be read: {exc}") from exc
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _not_a_backup(path, f"its {common.MANIFEST} is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != common.FORMAT:
        raise _not_a_backup(path, f"its {common.MANIFEST} is not a trainingmgr manifest")
    version = data.get("version")
    if not isinstance(version, int) or version > common.FORMAT_VERSION:
        raise BackupError(
            f"{path} was made by a newer version of trainingmgr (backup format {version}); "
            f"this one reads format {common.FORMAT_VERSION}. Upgrade trainingmgr to restore it. "
            "Nothing was changed."
        )
    kind = data.get("database")
    tables = data.get("tables")
    if (
        kind not in common.PAYLOADS
        or data.get("payload") != common.PAYLOADS[kind]
        or not isinstance(tables, dict)
        or not all(isinstance(k, str) and isinstance(v, int) for k, v in tables.items())
    ):
        raise _not_a_backup(path, f"its {common.MANIFEST} is incomplete")
    if common.PAYLOADS[kind] not in names:
        raise BackupError(
            f"{path} is damaged: the database file {common.PAYLOADS[kind]} is missing from it. "
            "Nothing was changed."
        )
    revision = data.get("alembic_revision")
    return Manifest(
        database=kind,
        created_at=str(data.get("created_at", "")),
        alembic_revision=str(revision) if revision else None,
        tables=dict(tables),
        payload=common.PAYLOADS[kind],
        sha256=str(data.get("sha256", "")),
        trainingmgr_version=str(data.get("trainingmgr_version", "")),
        version=version,
    )


def describe_backup(path: Path, manifest: Manifest) -> list[str]:
    revision = manifest.alembic_revision or "none recorded"
    biggest = sorted(manifest.tables.items(), key=lambda kv: (-kv[1], kv[0]))[:6]
    return [
        f"Backup:  {path}",
        f"  made {manifest.created_at} from a {common.KIND_NAMES[manifest.database]} database, "
        f"schema revision {revision}",
        f"  {len(manifest.tables)} tables, {manifest.total_rows} rows"
        + (f" ({', '.join(f'{n} {t}' for t, n in biggest if n)})" if manifest.total_rows else ""),
    ]


def describe_target(target: Target) -> list[str]:
    if not target.tables:
        state = "empty (no tables)"
    elif target.empty:
        state = f"empty ({len(target.tables)} tables, no data)"
    else:
        filled = sum(1 for t, n in target.tables.items() if n and t != common.ALEMBIC_TABLE)
        state = f"NOT EMPTY: {target.data_rows} rows in {filled} of its {len(target.tables)} tables"
    return [
        f"Target:  {target.url} ({common.KIND_NAMES[target.kind]})",
        f"  {state}, schema revision {target.alembic_revision or 'none recorded'}",
    ]


def _extract(path: Path, manifest: Manifest, into: Path) -> Path:
    """The archive's database file, extracted into ``into`` and checked against the manifest."""
    target = into / manifest.payload
    digest = hashlib.sha256()
    try:
        with (
            zipfile.ZipFile(path) as archive,
            archive.open(manifest.payload) as src,
            target.open("wb") as dst,
        ):
            for chunk in iter(lambda: src.read(common._CHUNK), b""):
                digest.update(chunk)
                dst.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BackupError(f"{path} is damaged ({exc}). Nothing was changed.") from exc
    if manifest.sha256 and digest.hexdigest() != manifest.sha256:
        raise BackupError(
            f"{path} is damaged: its database file does not match its checksum. "
            "Nothing was changed."
        )
    return target


def _check_sqlite(path: Path, payload: Path) -> None:
    damaged = f"{path} is damaged: its database fails SQLite's integrity check"
    try:
        source = sqlite3.connect(payload)
        try:
            check = source.execute("PRAGMA integrity_check").fetchone()
        finally:
            source.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{damaged} ({exc}). Nothing was changed.") from exc
    if not check or check[0] != "ok":
        raise BackupError(f"{damaged}. Nothing was changed.")


def _refuse_unusable(manifest: Manifest, kind: str) -> None:
    """BackupError if the backup is of the other kind of database or of a schema revision
    this version does not know."""
    if manifest.database != kind:
        raise BackupError(
            f"This is a backup of a {common.KIND_NAMES[manifest.database]} database; the "
            f"target is {common.KIND_NAMES[kind]}. Restore it into a "
            f"{common.KIND_NAMES[manifest.database]} database (set DATABASE_URL). Nothing was "
            "changed."
        )
    known = common.known_revisions()
    if known is not None and manifest.alembic_revision and manifest.alembic_revision not in known:
        raise BackupError(
            f"The backup's schema revision {manifest.alembic_revision} is unknown to this "
            "version of trainingmgr: it was made by a newer or different version. Install "
            "that version (or a newer one) to restore it. Nothing was changed."
        )


def _check_restored(engine: Engine, manifest: Manifest, echo: Callable[[str], Any]) -> None:
    """BackupError if the restored tables' row counts differ from the backup's; say when
    the restored schema needs upgrading."""
    restored = inspect_target(engine)
    differ = {
        name: (rows, restored.tables.get(name))
        for name, rows in manifest.tables.items()
        if restored.tables.get(name) != rows
    }
    if differ:
        raise BackupError(
            "The restore finished but these tables' row counts differ from the backup's: "
            + ", ".join(f"{t} (backup {a}, now {b})" for t, (a, b) in sorted(differ.items()))
        )
    echo(f"Restored {len(manifest.tables)} tables, {manifest.total_rows} rows.")
    head = common.head_revision()
    if manifest.alembic_revision and head and manifest.alembic_revision != head:
        echo(
            "The backup's schema is older than this version's: run "
            "`flask --app app db upgrade` to bring it up to date."
        )
