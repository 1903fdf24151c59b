"""``flask --app app import-participants FILE [--cohort ID] [--dry-run]``: the import, scripted.

It prints the same verdicts as the preview page and exits with status 1 when the file cannot
be imported as it is (unreadable, a required column missing, rows with errors): then nothing
is written.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from trainingmgr.cohorts.models import Cohort
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.imports import services
from trainingmgr.imports.services import Preview
from trainingmgr.imports.validation import RowResult, Verdict


def _row_line(row: RowResult) -> str:
    values = row.values
    name = " ".join(v for v in (values.get("first_name"), values.get("last_name")) if v)
    who = f"{name} <{values['email']}>" if values.get("email") else name
    details = " ".join(row.messages)
    return f"row {row.line:>5}  {str(row.verdict.label):<18}  {who}  {details}".rstrip()


def _cohort(cohort_id: int | None) -> Cohort | None:
    if cohort_id is None:
        return None
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        raise click.ClickException(f"There is no cohort with id {cohort_id}.")
    return cohort


def _preview(data: bytes, filename: str, cohort: Cohort | None, sheet: str | None) -> Preview:
    """The preview's verdicts printed; ClickException when the file cannot be imported as
    it is."""
    try:
        preview = services.build_preview(data, filename, cohort=cohort, sheet=sheet)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    for row in preview.rows:
        click.echo(_row_line(row))
    counts = ", ".join(f"{v.label}: {n}" for v, n in preview.counts.items() if n)
    click.echo(f"{len(preview.rows)} rows. {counts}")
    if preview.problems:
        raise click.ClickException(" ".join(preview.problems))
    if preview.errors:
        raise click.ClickException(
            f"{preview.errors} row(s) have errors: nothing was imported. "
            "Correct the file and run the command again."
        )
    return preview


def register(app: Flask) -> None:
    @app.cli.command("import-participants")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option(
        "--cohort",
        "cohort_id",
        type=int,
        help="Enrol everyone into this cohort (its id). Without it: the people directory only.",
    )
    @click.option("--dry-run", is_flag=True, help="Show the verdicts and write nothing.")
    @click.option("--sheet", default=None, help="For an .xlsx file: the sheet to read.")
    @click.option(
        "--include-duplicates",
        is_flag=True,
        help="Import the rows marked as possible duplicates as new people.",
    )
    def import_participants(
        file: Path,
        cohort_id: int | None,
        dry_run: bool,
        sheet: str | None,
        include_duplicates: bool,
    ) -> None:
        """Import participants from a CSV or XLSX FILE, as the import page does."""
        cohort = _cohort(cohort_id)
        data = file.read_bytes()
        preview = _preview(data, file.name, cohort, sheet)
        if dry_run:
            click.echo("Dry run: nothing was written.")
            return
        include = [r.line for r in preview.rows if r.verdict is Verdict.DUPLICATE]
        try:
            summary = services.confirm_import(
                data,
                file.name,
                actor=None,
                cohort=cohort,
                sheet=preview.table.sheet,
                include=include if include_duplicates else (),
                signature=preview.signature,
            )
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
        db.session.commit()
        click.echo(summary.message())
