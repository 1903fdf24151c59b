"""``flask --app app certificates ...``: issuing and exporting a cohort's certificates, scripted.

- ``certificates issue --cohort ID`` issues a certificate to everyone the completion rule finds
  eligible (``services.issue_all_eligible``, as the "issue to all eligible" button, with no
  signed-in user: the audit trail shows the system) and prints each new serial with the
  holder's name, then who already had one and who is not eligible, with the reasons.
- ``certificates export --cohort ID --out FILE.zip`` writes the cohort's valid certificates
  as a ZIP of PDFs (``export.iter_zip``, as the download button), into a temporary file in the
  same directory renamed when complete: an interrupted export never leaves half a ZIP.

Both exit with status 1 and a message (nothing written) for an unknown cohort, and ``export``
also when there is nothing to export or the directory does not exist.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from trainingmgr.certificates import export, services
from trainingmgr.cohorts.models import Cohort
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db

certificates_cli = AppGroup("certificates", help="Issue and export completion certificates.")


def _cohort(cohort_id: int) -> Cohort:
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None:
        raise click.ClickException(f"There is no cohort with id {cohort_id}.")
    return cohort


@certificates_cli.command("issue")
@click.option("--cohort", "cohort_id", type=int, required=True, help="The cohort's id.")
@click.option(
    "--before-end",
    is_flag=True,
    help="Issue although the cohort has not ended yet (its end date is after today).",
)
def issue(cohort_id: int, before_end: bool) -> None:
    """Issue certificates to everyone in the cohort the completion rule finds eligible."""
    cohort = _cohort(cohort_id)
    try:
        result = services.issue_all_eligible(cohort, confirm_before_end=before_end, actor=None)
    except DomainError as exc:
        db.session.rollback()
        message = exc.message
        if exc.field == "confirm_before_end":
            message = f"{message} (add --before-end to issue anyway)"
        raise click.ClickException(message) from exc
    db.session.commit()
    label = f"{cohort.programme.code} · {cohort.name}"
    for certificate in result.issued:
        click.echo(f"issued  {certificate.serial}  {certificate.snapshot['holder']['name']}")
    for enrolment, verdict in result.not_eligible:
        reasons = "; ".join(verdict.reasons)
        click.echo(f"not eligible  {enrolment.person.full_name}: {reasons}")
    for enrolment, letters in result.unprintable:
        click.echo(
            f"not issued  {enrolment.person.full_name}: letters the certificate fonts cannot "
            f"print ({' '.join(letters)})"
        )
    click.echo(
        f"{label}: {len(result.issued)} issued, {len(result.already)} already had one, "
        f"{len(result.not_eligible)} not eligible."
    )
    if result.not_eligible:
        click.echo(
            "Someone not eligible gets a certificate only with a written reason, "
            "one by one on the cohort's certificates page."
        )


@certificates_cli.command("export")
@click.option("--cohort", "cohort_id", type=int, required=True, help="The cohort's id.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The ZIP file to write (replaced if it exists).",
)
def export_zip(cohort_id: int, out: Path) -> None:
    """Write the cohort's valid certificates into a ZIP of PDFs."""
    cohort = _cohort(cohort_id)
    directory = out.parent if str(out.parent) else Path(".")
    if not directory.is_dir():
        raise click.ClickException(f"The directory {directory} does not exist.")
    certificates = export.cohort_certificates(cohort.id)
    if not certificates:
        raise click.ClickException(
            f"{cohort.name} has no valid certificates: nothing was written. "
            f"Issue them first (flask certificates issue --cohort {cohort.id})."
        )
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=directory)
    size = 0
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in export.iter_zip(certificates):
                file.write(chunk)
                size += len(chunk)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a file the user creates (mkstemp: 0600)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    click.echo(f"Wrote {len(certificates)} certificates ({size / 1024:.0f} KiB) to {out}.")


def register(app: Flask) -> None:
    app.cli.add_command(certificates_cli)
