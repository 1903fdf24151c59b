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

The code is split by concern: ``common`` (format, manifest, errors and helpers), ``dump``
(making a backup), ``verify`` (checking a backup, a target and a restore) and ``restore``;
this package re-exports every public name.
"""

from __future__ import annotations

from trainingmgr.ops.backup.common import (
    ALEMBIC_TABLE,
    FORMAT,
    FORMAT_VERSION,
    KIND_NAMES,
    MANIFEST,
    PAYLOADS,
    BackupError,
    Manifest,
    Target,
    _tool,
    display_url,
    head_revision,
    kind_of,
    known_revisions,
)
from trainingmgr.ops.backup.dump import create_backup
from trainingmgr.ops.backup.restore import restore_backup
from trainingmgr.ops.backup.verify import (
    describe_backup,
    describe_target,
    inspect_target,
    read_manifest,
)

__all__ = [
    "ALEMBIC_TABLE",
    "BackupError",
    "FORMAT",
    "FORMAT_VERSION",
    "KIND_NAMES",
    "MANIFEST",
    "Manifest",
    "PAYLOADS",
    "Target",
    "_tool",
    "create_backup",
    "describe_backup",
    "describe_target",
    "display_url",
    "head_revision",
    "inspect_target",
    "kind_of",
    "known_revisions",
    "read_manifest",
    "restore_backup",
]
