"""``flask --app app backup`` and ``flask --app app restore``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask

from trainingmgr.extensions import db
from trainingmgr.ops import backup


def register(app: Flask) -> None:
    @app.cli.command("check-production")
    def check_production() -> None:
        """Say what is missing or unsafe before serving in production (exit 1 if anything)."""
        from trainingmgr.ops.checks import production_findings

        findings = production_findings()
        for finding in findings:
            click.echo(f"missing  {finding.setting}: {finding.problem}")
        if findings:
            raise click.ClickException(
                f"{len(findings)} setting(s) to fix before production (docs/production.md)."
            )
        click.echo("Ready for production: every setting checked is in place.")

    @app.cli.command("backup")
    @click.option(
        "--out",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The file to write (default: trainingmgr-backup-<date>-<time>.zip here).",
    )
    def backup_command(out: Path | None) -> None:
        """Back up the database (DATABASE_URL) to one .zip file, while the app runs."""
        if out is None:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            out = Path(f"trainingmgr-backup-{stamp}.zip")
        db.session.remove()
        try:
            manifest = backup.create_backup(db.engine, out)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Backed up {backup.display_url(db.engine.url)} to {out}")
        click.echo(
            f"  {backup.KIND_NAMES[manifest.database]}, {len(manifest.tables)} tables, "
            f"{manifest.total_rows} rows, schema revision "
            f"{manifest.alembic_revision or 'none recorded'}"
        )
        click.echo("  The file holds personal data and password hashes: keep it safe.")

    @app.cli.command("restore")
    @click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option(
        "--force",
        is_flag=True,
        help="Replace the contents of a target database that is not empty.",
    )
    def restore_command(file: Path, force: bool) -> None:
        """Restore a backup made by `backup` into the database (DATABASE_URL).

        Says what it will do first. Refuses a target that holds data unless --force; a file
        that is not a backup, or one of the other kind of database, changes nothing.
        """
        db.session.remove()
        try:
            backup.restore_backup(db.engine, file, force=force, echo=click.echo)
        except backup.BackupError as exc:
            raise click.ClickException(str(exc)) from exc
