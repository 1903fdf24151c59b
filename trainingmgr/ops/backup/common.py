"""What every part of backups shares: the archive's format and manifest, the target
database, the errors, and helpers (checksums, the PostgreSQL client tools, row counts, the
schema revisions this version knows).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
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
