"""``flask certificates issue`` and ``flask certificates export``: a cohort's certificates from
the command line (the same services as the pages)."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import Result
from flask import Flask

from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.audit.models import AuditEvent
from trainingmgr.certificates import export, services
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.extensions import db

START = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
P, A = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["certificates", *args])


def course(make: Any) -> Any:
    """A cohort (80% rule) of four sessions."""
    programme = make.programme(code="RTCM", title="Road Traffic Crash Management")
    cohort = make.cohort(programme, name="Baku cohort 2", min_attendance_pct=80)
    for i in range(4):
        make.session(
            cohort=cohort,
            starts_at=START + timedelta(days=i),
            ends_at=START + timedelta(days=i, hours=3),
        )
    return cohort


def attend(make: Any, cohort: Any, statuses: list[AttendanceStatus], first: str, last: str):
    enrolment = make.enrolment(cohort=cohort, person=make.person(first_name=first, last_name=last))
    for session, status in zip(cohort.sessions, statuses, strict=False):
        make.attendance(session, enrolment, status)
    return enrolment


def certificates() -> list[Certificate]:
    return list(db.session.scalars(sa.select(Certificate).order_by(Certificate.id)))


def test_issue_prints_each_new_certificate_and_who_is_not_eligible(
    app: Flask, make: Any, db_session: Any
) -> None:
    cohort = course(make)
    done = attend(make, cohort, [P, P, P, P], "Ivan", "Petrov")
    services.issue(done, actor=make.user())
    nino = attend(make, cohort, [P, P, P, P], "ნინო", "ბერიძე")
    leman = attend(make, cohort, [P, P, P, P], "Ləman", "Əliyeva")
    attend(make, cohort, [P, A, A, A], "Aram", "Petrosyan")
    db.session.flush()

    result = run(app, "issue", "--cohort", str(cohort.id))

    assert result.exit_code == 0, result.output
    new = [c for c in certificates() if c.enrolment_id in (nino.id, leman.id)]
    assert len(new) == 2
    for certificate in new:
        holder = certificate.snapshot["holder"]["name"]
        assert f"issued  {certificate.serial}  {holder}" in result.output
    assert "not eligible  Aram Petrosyan: 1 of 4 sessions, 25% is below 80%" in result.output
    assert "RTCM · Baku cohort 2: 2 issued, 1 already had one, 1 not eligible." in result.output
    assert {nino.status, leman.status} == {EnrolmentStatus.COMPLETED}
    issued = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.action == "certificate.issue",
            AuditEvent.object_id.in_([c.id for c in new]),
        )
    ).all()
    assert len(issued) == 2 and {e.actor_id for e in issued} == {None}  # the system


def test_issue_again_issues_nothing_new(app: Flask, make: Any, db_session: Any) -> None:
    cohort = course(make)
    attend(make, cohort, [P, P, P, P], "Ivan", "Petrov")
    assert run(app, "issue", "--cohort", str(cohort.id)).exit_code == 0

    again = run(app, "issue", "--cohort", str(cohort.id))

    assert again.exit_code == 0, again.output
    assert "0 issued, 1 already had one, 0 not eligible." in again.output
    assert len(certificates()) == 1


@pytest.mark.parametrize("command", ["issue", "export"])
def test_an_unknown_cohort_is_refused(
    app: Flask, db_session: Any, command: str, tmp_path: Path
) -> None:
    extra = ["--out", str(tmp_path / "out.zip")] if command == "export" else []

    result = run(app, command, "--cohort", "987654", *extra)

    assert result.exit_code == 1
    assert "There is no cohort with id 987654." in result.output
    assert certificates() == [] and list(tmp_path.iterdir()) == []


def issued_cohort(make: Any) -> tuple[Any, list[Certificate]]:
    cohort = course(make)
    actor = make.user()
    issued = [
        services.issue(attend(make, cohort, [P, P, P, P], first, last), actor=actor)
        for first, last in [("Ləman", "Əliyeva"), ("ნინო", "ბერიძე"), ("Ivan", "Petrov")]
    ]
    services.revoke(issued[2], "Issued in the wrong cohort", actor=actor)
    db.session.flush()
    return cohort, issued


def test_export_writes_the_valid_certificates_as_a_zip(
    app: Flask, make: Any, db_session: Any, tmp_path: Path
) -> None:
    cohort, issued = issued_cohort(make)
    out = tmp_path / "cohort.zip"

    result = run(app, "export", "--cohort", str(cohort.id), "--out", str(out))

    assert result.exit_code == 0, result.output
    assert "Wrote 2 certificates" in result.output and str(out) in result.output
    with zipfile.ZipFile(out) as archive:
        names = sorted(archive.namelist())
        assert names == sorted(f"{c.serial} {c.snapshot['holder']['name']}.pdf" for c in issued[:2])
        for name, certificate in zip(
            names, sorted(issued[:2], key=lambda c: f"{c.serial}"), strict=True
        ):
            assert archive.read(name) == services.render_pdf(certificate)
    assert [p.name for p in tmp_path.iterdir()] == ["cohort.zip"]  # no temporary file left
    assert oct(out.stat().st_mode & 0o777) != oct(0o600)  # readable as any file the user makes


def test_export_with_nothing_to_export_writes_nothing(
    app: Flask, make: Any, db_session: Any, tmp_path: Path
) -> None:
    cohort = course(make)
    attend(make, cohort, [P, P, P, P], "Ivan", "Petrov")

    result = run(app, "export", "--cohort", str(cohort.id), "--out", str(tmp_path / "a.zip"))

    assert result.exit_code == 1
    assert "has no valid certificates: nothing was written" in result.output
    assert f"flask certificates issue --cohort {cohort.id}" in result.output
    assert list(tmp_path.iterdir()) == []


def test_export_into_a_missing_directory_is_refused(
    app: Flask, make: Any, db_session: Any, tmp_path: Path
) -> None:
    cohort, _issued = issued_cohort(make)
    out = tmp_path / "no" / "such" / "dir" / "cohort.zip"

    result = run(app, "export", "--cohort", str(cohort.id), "--out", str(out))

    assert result.exit_code == 1
    assert f"The directory {out.parent} does not exist." in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_export_that_fails_half_way_leaves_the_previous_file(
    app: Flask, make: Any, db_session: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    cohort, _issued = issued_cohort(make)
    out = tmp_path / "cohort.zip"
    out.write_bytes(b"yesterday's export")

    def broken(certificates: Any, **_kw: Any) -> Any:
        yield b"PK\x03\x04 half a zip"
        raise OSError("No space left on device")

    monkeypatch.setattr(export, "iter_zip", broken)
    result = run(app, "export", "--cohort", str(cohort.id), "--out", str(out))

    assert result.exit_code != 0
    assert out.read_bytes() == b"yesterday's export"
    assert [p.name for p in tmp_path.iterdir()] == ["cohort.zip"]


def test_revoked_certificates_are_not_exported(app: Flask, make: Any, db_session: Any) -> None:
    cohort, issued = issued_cohort(make)

    assert [c.status for c in issued] == [
        CertificateStatus.VALID,
        CertificateStatus.VALID,
        CertificateStatus.REVOKED,
    ]
    assert {c.id for c in export.cohort_certificates(cohort.id)} == {c.id for c in issued[:2]}
