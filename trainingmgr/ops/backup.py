"""Backing up the database to one file, and restoring it.

A backup is a zip archive holding ``manifest.json`` and the database:

- SQLite: a copy made with SQLite's online backup API (consistent while the app runs),
  stored as ``database.sqlite3``;
- PostgreSQL: ``pg_dump --format=custom`` of the installed client, stored as
  ``database.pgdump``; the row counts in the manifest are read in the same snapshot.

The manifest says what the archive holds: ``{"format": "trainingmgr-backup", "version": 1,
"created_at", "database": "sqlite" | "postgresql", "alembic_revision", "tables": {name:
rows}, "payload", "sha256", "trainingmgr_version"}``.

Restoring checks the archive and the target first and changes nothing when something is
wrong: not a backup, damaged, made from the other kind of database, or a target that holds
data (unless ``force``). PostgreSQL is restored in one transaction (``pg_restore`` turns the
dump into SQL that ``psql --single-transaction`` runs after dropping the target's tables);
SQLite with the backup API in the other direction, which replaces the file's content in one
step. Either way, a failed restore leaves the target as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine

from trainingmgr.config import ROOT

FORMAT = "trainingmgr-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PAYLOADS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
KIND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
ALEMBIC_TABLE = "alembic_version"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass
class Manifest:
    database: str
    created_at: str
    alembic_revision: str | None
    tables: dict[str, int]
    payload: str
    sha256: str = ""
    trainingmgr_version: str = ""
    format: str = FORMAT
    version: int = FORMAT_VERSION

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2, sort_keys=True)


@dataclass
class Target:
    """The database a backup would be restored into."""

    kind: str
    url: str  # without the password
    tables: dict[str, int] = field(default_factory=dict)
    alembic_revision: str | None = None

    @property
    def data_rows(self) -> int:
        return sum(n for name, n in self.tables.items() if name != ALEMBIC_TABLE)

    @property
    def empty(self) -> bool:
        return self.data_rows == 0


# --------------------------------------------------------------------------- helpers


def kind_of(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in PAYLOADS:
        raise BackupError(f"Backups support SQLite and PostgreSQL databases, not {name}.")
    return name


def display_url(url: URL) -> str:
    """The URL without its password or driver name (safe to print)."""
    plain = url.set(password=None, drivername=url.get_backend_name())
    return plain.render_as_string(hide_password=False)


def _version() -> str:
    try:
        return metadata.version("trainingmgr")
    except metadata.PackageNotFoundError:
        return ""


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on the PATH. It comes with the PostgreSQL client: install "
            "it (Debian/Ubuntu: apt-get install postgresql-client; its major version must be "
            "at least the server's) and try again. Nothing was changed."
        )
    return path


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and an environment carrying it."""
    plain = url.set(drivername="postgresql")
    env = dict(os.environ)
    if plain.password:
        env["PGPASSWORD"] = str(plain.password)
    return plain.set(password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str] | None, what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise BackupError(f"{what} failed (exit code {result.returncode}): {detail}")


def _quote(conn: Any, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _count_tables(conn: sa.Connection, names: list[str]) -> dict[str, int]:
    return {
        name: int(conn.execute(sa.text(f"SELECT count(*) FROM {_quote(conn, name)}")).scalar_one())
        for name in sorted(names)
    }


def _revision(conn: sa.Connection, tables: dict[str, int]) -> str | None:
    if ALEMBIC_TABLE not in tables:
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {ALEMBIC_TABLE}")).scalar()


def known_revisions() -> set[str] | None:
    """The schema revisions this version of trainingmgr knows (None: no migrations here)."""
    directory = ROOT / "migrations"
    if not (directory / "versions").is_dir():
        return None
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(directory))
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def head_revision() -> str | None:
    directory = ROOT / "migrations"
    if not (directory / "versions").is_dir():
        return None
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(directory))
    return ScriptDirectory.from_config(config).get_current_head()


# --------------------------------------------------------------------------- inspecting


def inspect_target(engine: Engine) -> Target:
    """The target's tables with their row counts (and its schema revision)."""
    kind = kind_of(engine)
    target = Target(kind=kind, url=display_url(engine.url))
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            target.tables = _count_tables(conn, names)
            target.alembic_revision = _revision(conn, target.tables)
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
            if MANIFEST not in names:
                raise _not_a_backup(path, f"the zip archive has no {MANIFEST}")
            raw = archive.read(MANIFEST)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _not_a_backup(path, f"the zip archive cannot be read: {exc}") from exc
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _not_a_backup(path, f"its {MANIFEST} is not JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _not_a_backup(path, f"its {MANIFEST} is not a trainingmgr manifest")
    version = data.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise BackupError(
            f"{path} was made by a newer version of trainingmgr (backup format {version}); "
            f"this one reads format {FORMAT_VERSION}. Upgrade trainingmgr to restore it. "
            "Nothing was changed."
        )
    kind = data.get("database")
    tables = data.get("tables")
    if (
        kind not in PAYLOADS
        or data.get("payload") != PAYLOADS[kind]
        or not isinstance(tables, dict)
        or not all(isinstance(k, str) and isinstance(v, int) for k, v in tables.items())
    ):
        raise _not_a_backup(path, f"its {MANIFEST} is incomplete")
    if PAYLOADS[kind] not in names:
        raise BackupError(
            f"{path} is damaged: the database file {PAYLOADS[kind]} is missing from it. "
            "Nothing was changed."
        )
    revision = data.get("alembic_revision")
    return Manifest(
        database=kind,
        created_at=str(data.get("created_at", "")),
        alembic_revision=str(revision) if revision else None,
        tables=dict(tables),
        payload=PAYLOADS[kind],
        sha256=str(data.get("sha256", "")),
        trainingmgr_version=str(data.get("trainingmgr_version", "")),
        version=version,
    )


def describe_backup(path: Path, manifest: Manifest) -> list[str]:
    revision = manifest.alembic_revision or "none recorded"
    biggest = sorted(manifest.tables.items(), key=lambda kv: (-kv[1], kv[0]))[:6]
    return [
        f"Backup:  {path}",
        f"  made {manifest.created_at} from a {KIND_NAMES[manifest.database]} database, "
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
        filled = sum(1 for t, n in target.tables.items() if n and t != ALEMBIC_TABLE)
        state = f"NOT EMPTY: {target.data_rows} rows in {filled} of its {len(target.tables)} tables"
    return [
        f"Target:  {target.url} ({KIND_NAMES[target.kind]})",
        f"  {state}, schema revision {target.alembic_revision or 'none recorded'}",
    ]


# --------------------------------------------------------------------------- backup


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


# --------------------------------------------------------------------------- restore


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
            for chunk in iter(lambda: src.read(_CHUNK), b""):
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
    if manifest.database != kind:
        raise BackupError(
            f"This is a backup of a {KIND_NAMES[manifest.database]} database; the target is "
            f"{KIND_NAMES[kind]}. Restore it into a {KIND_NAMES[manifest.database]} database "
            "(set DATABASE_URL). Nothing was changed."
        )
    known = known_revisions()
    if known is not None and manifest.alembic_revision and manifest.alembic_revision not in known:
        raise BackupError(
            f"The backup's schema revision {manifest.alembic_revision} is unknown to this "
            "version of trainingmgr: it was made by a newer or different version. Install "
            "that version (or a newer one) to restore it. Nothing was changed."
        )
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
    head = head_revision()
    if manifest.alembic_revision and head and manifest.alembic_revision != head:
        echo(
            "The backup's schema is older than this version's: run "
            "`flask --app app db upgrade` to bring it up to date."
        )
    return manifest


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(
            "The target is an in-memory SQLite database; restore into a database file "
            "(set DATABASE_URL=sqlite:////path/to/file.sqlite3)."
        )
    return Path(database).resolve()


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
