"""Issuing before the cohort's end asks for an explicit confirmation that names the dates:
one by one, "issue anyway", "issue to all" and the CLI (``--before-end``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from trainingmgr.accounts.models import Role
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.certificates import services
from trainingmgr.certificates.models import Certificate
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db

P = AttendanceStatus.PRESENT


def running_cohort(make: Any) -> Any:
    """A cohort that started 10 days ago and ends in 20 days; one session held, attended."""
    today = datetime.now(UTC).date()
    cohort = make.cohort(
        name="Spring cohort",
        start_date=today - timedelta(days=10),
        end_date=today + timedelta(days=20),
        min_attendance_pct=80,
        timezone="UTC",
    )
    session = make.session(
        cohort=cohort,
        starts_at=datetime.now(UTC) - timedelta(days=5),
        ends_at=datetime.now(UTC) - timedelta(days=5) + timedelta(hours=3),
    )
    enrolment = make.enrolment(cohort=cohort, person=make.person(first_name="Anna"))
    make.attendance(session, enrolment, P)
    return cohort, enrolment


def count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Certificate.id))) or 0


def long_date(day: date) -> str:
    """A date as every page writes it in English ("Nov 26, 2026", core.timefmt)."""
    return f"{day:%b} {day.day}, {day.year}"


def test_the_services_ask_for_the_confirmation_and_name_the_dates(
    make: Any, db_session: Any
) -> None:
    cohort, enrolment = running_cohort(make)

    with pytest.raises(DomainError) as refused:
        services.issue(enrolment, actor=make.user())
    assert refused.value.field == "confirm_before_end"
    assert long_date(cohort.start_date) in refused.value.message
    assert long_date(cohort.end_date) in refused.value.message
    assert long_date(datetime.now(UTC).date()) in refused.value.message
    with pytest.raises(DomainError):
        services.issue(enrolment, override_reason="Leaves early", actor=make.user())
    with pytest.raises(DomainError):
        services.issue_all_eligible(cohort, actor=make.user())
    assert count() == 0

    result = services.issue_all_eligible(cohort, confirm_before_end=True, actor=make.user())
    assert len(result.issued) == 1


def test_an_ended_cohort_needs_no_confirmation(make: Any, db_session: Any) -> None:
    cohort, enrolment = running_cohort(make)
    cohort.end_date = datetime.now(UTC).date()  # ends today: issuing on the last day is fine

    assert services.before_end(cohort) is None
    assert services.issue(enrolment, actor=make.user()).serial


def test_the_pages_show_the_dates_and_ask(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    cohort, enrolment = running_cohort(make)
    login(Role.COORDINATOR)

    page = client.get(f"/cohorts/{cohort.id}/certificates")
    assert 'data-testid="before-end"' in page.text
    assert long_date(cohort.end_date) in page.text
    assert 'name="confirm_before_end"' in page.text

    refused = client.post(f"/cohorts/{cohort.id}/certificates/issue-all", follow_redirects=True)
    assert "Confirm that you issue before the end." in refused.text
    assert count() == 0

    url = f"/cohorts/{cohort.id}/certificates/issue/{enrolment.id}"
    form = client.get(url)
    assert long_date(cohort.end_date) in form.text and "confirm_before_end" in form.text
    refused = client.post(url, data={})
    assert refused.status_code == 200
    assert "Confirm that you issue before the end." in refused.text
    assert count() == 0

    done = client.post(url, data={"confirm_before_end": "y"})
    assert done.status_code == 302
    assert count() == 1


def test_issue_to_all_with_the_confirmation(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    cohort, _enrolment = running_cohort(make)
    login(Role.COORDINATOR)

    response = client.post(
        f"/cohorts/{cohort.id}/certificates/issue-all",
        data={"confirm_before_end": "y"},
        follow_redirects=True,
    )
    assert "1 issued" in response.text
    assert count() == 1


def test_the_cli_refuses_without_the_flag(app: Flask, make: Any, db_session: Any) -> None:
    cohort, _enrolment = running_cohort(make)
    end = long_date(cohort.end_date)

    refused = app.test_cli_runner().invoke(
        args=["certificates", "issue", "--cohort", str(cohort.id)]
    )
    assert refused.exit_code == 1
    assert "add --before-end" in refused.output
    assert end in refused.output
    assert count() == 0


def test_the_cli_issues_with_the_flag(app: Flask, make: Any, db_session: Any) -> None:
    cohort, _enrolment = running_cohort(make)

    done = app.test_cli_runner().invoke(
        args=["certificates", "issue", "--cohort", str(cohort.id), "--before-end"]
    )
    assert done.exit_code == 0, done.output
    assert "1 issued" in done.output
    assert count() == 1
