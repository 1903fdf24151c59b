"""``flask backup`` and ``flask restore``: a database with the demo data survives the round
trip table by table and row by row; anything that is not a usable backup is refused with a
message and changes nothing.

The source is the suite's database (SQLite or ``TEST_DATABASE_URL``) with committed data; the
target is a scratch database of the same kind: a SQLite file, or ``<test db>_restore`` created
and dropped on the same PostgreSQL server.
"""

from __future__ import annotations

import io
import json
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from tests.conftest import on_postgres
from tests.test_organisation import png
from trainingmgr import create_app, demo
from trainingmgr.accounts.models import User
from trainingmgr.config import normalise_database_url
from trainingmgr.extensions import db
from trainingmgr.ops import backup
from trainingmgr.organisation import services as organisation
from trainingmgr.people.models import Person

KIND = "postgresql" if on_postgres() else "sqlite"
OTHER_KIND = "sqlite" if on_postgres() else "postgresql"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def source(app: Flask, committed_db: Any) -> Flask:
    """The suite's database with the demo data, an organisation logo and signatories."""
    demo.load()
    settings = organisation.get_settings()
    settings.logo, settings.logo_mimetype = png(), "image/png"
    organisation.add_signatory(
        None,
        organisation.SignatoryInput("Dr. Anna Petrova", "Director"),
        (png(), "image/png"),
        actor=None,
    )
    db.session.commit()
    db.session.remove()
    return app


@pytest.fixture
def target_url(app: Flask, tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's kind (no tables at all)."""
    if not on_postgres():
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    name = f"{url.database}_restore"
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def target(target_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on the target database, whose CLI restores into it."""
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "restore-test",
            "INSTANCE_PATH": str(tmp_path / "target-instance"),
            "SQLALCHEMY_DATABASE_URI": target_url,
            "MAIL_BACKEND": "memory",
        }
    )
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def cli(app: Flask, *args: str) -> Any:
    # In the app's own context: the command would otherwise run in the one already pushed.
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def engine_of(url: str) -> sa.Engine:
    return sa.create_engine(normalise_database_url(url))


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    rows = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [tuple(r) for r in conn.execute(sa.select(table).order_by(*order))]
    return rows


def counts(engine: sa.Engine) -> dict[str, int]:
    return {name: len(rows) for name, rows in snapshot(engine).items()}


def make_backup(source: Flask, path: Path) -> Any:
    result = cli(source, "backup", "--out", str(path))
    assert result.exit_code == 0, result.output
    return result


# --------------------------------------------------------------------------- round trip


def test_backup_and_restore_round_trip(source: Flask, target: Flask, tmp_path: Path) -> None:
    archive = tmp_path / "nightly.zip"
    result = make_backup(source, archive)
    assert f"to {archive}" in result.output
    assert "keep it safe" in result.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # personal data: owner only

    with source.app_context():
        original = snapshot(db.engine)
    with zipfile.ZipFile(archive) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert set(z.namelist()) == {"manifest.json", backup.PAYLOADS[KIND]}
    assert manifest["format"] == "trainingmgr-backup" and manifest["database"] == KIND
    assert manifest["tables"] == {name: len(rows) for name, rows in original.items()}
    assert manifest["tables"]["people"] > 200 and manifest["tables"]["attendance_records"] > 1000

    result = cli(target, "restore", str(archive))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Backup:  {archive}"
    assert f"from a {backup.KIND_NAMES[KIND]} database" in result.output
    assert "empty (no tables)" in result.output
    assert "password" not in result.output.lower()
    assert f"Restored {len(original)} tables, {sum(map(len, original.values()))} rows." in lines

    restored_engine = engine_of(target.config["SQLALCHEMY_DATABASE_URI"])
    try:
        restored = snapshot(restored_engine)
        assert {t: len(r) for t, r in restored.items()} == manifest["tables"]
        # Row by row: people, accounts, attendance, and the images (bytes) of the settings.
        for table in ("people", "users", "enrolments", "organisation_settings", "signatories"):
            assert restored[table] == original[table], table
        assert restored["attendance_records"][:200] == original["attendance_records"][:200]
        # The restored database is usable: new rows get new ids.
        with target.app_context():
            person = Person(first_name="After", last_name="Restore", email="after@example.org")
            db.session.add(person)
            db.session.commit()
            assert person.id > max(
                p.id
                for p in db.session.scalars(
                    sa.select(Person).where(Person.email != "after@example.org")
                )
            )
            assert db.session.scalar(sa.select(sa.func.count(User.id))) == len(original["users"])
    finally:
        restored_engine.dispose()


def test_restore_refuses_a_database_with_data_unless_forced(
    source: Flask, target: Flask, tmp_path: Path
) -> None:
    archive = tmp_path / "b.zip"
    make_backup(source, archive)
    assert cli(target, "restore", str(archive)).exit_code == 0
    with target.app_context():
        person = db.session.scalars(sa.select(Person).order_by(Person.id)).first()
        person.first_name = "Changed after the backup"
        db.session.commit()
        person_id = person.id

    result = cli(target, "restore", str(archive))
    assert result.exit_code == 1
    assert "NOT EMPTY" in result.output
    assert "The target database is not empty. Nothing was changed." in result.output
    assert "--force" in result.output
    with target.app_context():
        assert db.session.get(Person, person_id).first_name == "Changed after the backup"

    result = cli(target, "restore", str(archive), "--force")
    assert result.exit_code == 0, result.output
    assert "Replacing the target's contents with the backup" in result.output
    with target.app_context():
        db.session.expire_all()
        assert db.session.get(Person, person_id).first_name != "Changed after the backup"


def test_backup_never_overwrites_a_file(source: Flask, tmp_path: Path) -> None:
    existing = tmp_path / "keep.zip"
    existing.write_bytes(b"precious")
    with source.app_context():
        result = cli(source, "backup", "--out", str(existing))
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert existing.read_bytes() == b"precious"


# --------------------------------------------------------------------------- bad files


def _zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, content in files.items():
            z.writestr(name, content)
    return path


def _manifest(**changes: Any) -> bytes:
    data = {
        "format": "trainingmgr-backup",
        "version": 1,
        "created_at": "2026-01-01T00:00:00+00:00",
        "database": KIND,
        "alembic_revision": None,
        "tables": {"people": 1},
        "payload": backup.PAYLOADS[KIND],
        "sha256": "",
    }
    data.update(changes)
    if data["database"] in backup.PAYLOADS and "payload" not in changes:
        data["payload"] = backup.PAYLOADS[data["database"]]
    return json.dumps(data).encode()


def bad_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    random_bytes = tmp_path / "random.zip"
    random_bytes.write_bytes(bytes(range(256)) * 40)
    text = tmp_path / "notes.txt"
    text.write_text("Backup taken on Monday.\nAll good.\n")
    payload = backup.PAYLOADS[KIND]
    return {
        "missing": (tmp_path / "nowhere.zip", "There is no file"),
        "random-bytes": (random_bytes, "not a trainingmgr backup (it is not a zip archive)"),
        "text-file": (text, "not a trainingmgr backup (it is not a zip archive)"),
        "zip-without-manifest": (
            _zip(tmp_path / "photos.zip", {"holiday.jpg": b"\xff\xd8\xff..."}),
            "the zip archive has no manifest.json",
        ),
        "manifest-not-json": (
            _zip(tmp_path / "garbled.zip", {"manifest.json": b"{oops", payload: b""}),
            "its manifest.json is not JSON",
        ),
        "foreign-manifest": (
            _zip(tmp_path / "foreign.zip", {"manifest.json": b'{"format": "other-tool"}'}),
            "its manifest.json is not a trainingmgr manifest",
        ),
        "newer-format": (
            _zip(tmp_path / "future.zip", {"manifest.json": _manifest(version=99), payload: b""}),
            "made by a newer version of trainingmgr (backup format 99)",
        ),
        "no-database-file": (
            _zip(tmp_path / "hollow.zip", {"manifest.json": _manifest()}),
            "is damaged: the database file",
        ),
        "other-kind": (
            _zip(
                tmp_path / "other.zip",
                {
                    "manifest.json": _manifest(database=OTHER_KIND),
                    backup.PAYLOADS[OTHER_KIND]: b"whatever",
                },
            ),
            f"This is a backup of a {backup.KIND_NAMES[OTHER_KIND]} database; the target is "
            f"{backup.KIND_NAMES[KIND]}",
        ),
        "checksum-mismatch": (
            _zip(
                tmp_path / "tampered.zip",
                {"manifest.json": _manifest(sha256="0" * 64), payload: b"not the original"},
            ),
            "does not match its checksum",
        ),
        "unknown-revision": (
            _zip(
                tmp_path / "newer-schema.zip",
                {"manifest.json": _manifest(alembic_revision="ffffffffffff"), payload: b""},
            ),
            "schema revision ffffffffffff is unknown to this version",
        ),
        "damaged-database": (
            _zip(
                tmp_path / "damaged.zip",
                {"manifest.json": _manifest(), payload: b"SQLite format 3\x00" + b"\x00" * 200},
            ),
            "is damaged",
        ),
    }


BAD = [
    "missing",
    "random-bytes",
    "text-file",
    "zip-without-manifest",
    "manifest-not-json",
    "foreign-manifest",
    "newer-format",
    "no-database-file",
    "other-kind",
    "checksum-mismatch",
    "unknown-revision",
    "damaged-database",
]


@pytest.mark.parametrize("case", BAD)
def test_what_is_not_a_usable_backup_changes_nothing(
    target: Flask, tmp_path: Path, case: str
) -> None:
    with target.app_context():
        db.create_all()
        db.session.add(Person(first_name="Still", last_name="Here", email="still@example.org"))
        db.session.commit()
        before = counts(db.engine)
    path, message = bad_files(tmp_path)[case]
    for force in ([], ["--force"]):
        result = cli(target, "restore", str(path), *force)
        assert result.exit_code == 1, result.output
        assert message in result.output, result.output
        assert "Traceback" not in result.output
    with target.app_context():
        assert counts(db.engine) == before
        assert db.session.scalar(sa.select(Person.first_name)) == "Still"


def test_the_postgresql_client_tools_must_be_installed(
    app: Flask, monkeypatch: Any, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing in it
    with pytest.raises(backup.BackupError, match="pg_dump was not found on the PATH"):
        backup._tool("pg_dump")
    if on_postgres():
        with app.app_context():
            result = cli(app, "backup", "--out", str(tmp_path / "b.zip"))
        assert result.exit_code == 1
        assert "apt-get install postgresql-client" in result.output
        assert not (tmp_path / "b.zip").exists()


def test_restore_into_another_kind_of_database_is_refused(tmp_path: Path, app: Flask) -> None:
    """A real backup of one kind offered to the other kind (SQLite <-> PostgreSQL)."""
    manifest = backup.Manifest(
        database=KIND,
        created_at="2026-01-01T00:00:00+00:00",
        alembic_revision=None,
        tables={},
        payload=backup.PAYLOADS[KIND],
    )
    archive = _zip(
        tmp_path / "real.zip",
        {"manifest.json": manifest.to_json().encode(), manifest.payload: b""},
    )
    other = sa.create_engine(
        "sqlite:///" + str(tmp_path / "x.sqlite3")
        if KIND == "postgresql"
        else "postgresql+psycopg://nobody@127.0.0.1:1/none"
    )
    output = io.StringIO()
    with pytest.raises(backup.BackupError, match="Nothing was changed"):
        backup.restore_backup(other, archive, echo=output.write)
    assert "Backup:" in output.getvalue() and "Target:" not in output.getvalue()
