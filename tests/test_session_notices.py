"""Before moving or cancelling a session the coordinator sees who will be told and the
message, may choose not to tell them, and is told the count afterwards; cancelling a session
with attendance recorded asks for confirmation and keeps the records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.test_sessions import SESSION_FORM
from trainingmgr.accounts.models import Role
from trainingmgr.attendance.models import AttendanceRecord
from trainingmgr.cohorts.models import SessionStatus
from trainingmgr.extensions import db
from trainingmgr.mail.models import OutboxMessage


def _future(days: int, hour: int) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def setup(make: Any, people: int = 3, mail: str = "p") -> tuple[Any, Any, list[Any]]:
    cohort = make.cohort(
        timezone="Asia/Baku",
        start_date=_future(1, 5).date(),
        end_date=_future(30, 5).date(),
        language="en",
    )
    session = make.session(
        cohort, title="Protection", starts_at=_future(10, 5), ends_at=_future(10, 8)
    )
    enrolled = [
        make.enrolment(cohort, make.person(first_name=f"P{i}", email=f"{mail}{i}@example.org"))
        for i in range(people)
    ]
    make.enrolment(cohort, make.person(first_name="Nomail", email=None))
    return cohort, session, enrolled


def told() -> list[str]:
    db.session.flush()
    return sorted(
        db.session.scalars(
            sa.select(OutboxMessage.recipient).where(OutboxMessage.kind == "session_changed")
        )
    )


def edit_form(session: Any, day: str = "") -> dict[str, str]:
    day = day or (session.starts_at + timedelta(days=2)).date().isoformat()
    return {
        **SESSION_FORM,
        "title": "Protection",
        "day": day,
        "start_time": "09:00",
        "end_time": "12:00",
    }


def test_moving_shows_who_will_be_told_and_the_message_before_saving(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    cohort, session, _people = setup(make)
    before = session.starts_at
    url = f"/cohorts/{cohort.id}/sessions/{session.id}/edit"

    page = client.post(url, data=edit_form(session)).text

    assert "3 people will be told by e-mail" in page
    people = page.split('data-testid="notice-people">')[1].split("</p>")[0]
    assert people.split() == ["P0", "Person,", "P1", "Person,", "P2", "Person"]
    assert "New time: Protection" in page  # the subject of the message they will get
    assert "Nothing has been saved yet." in page
    assert session.starts_at == before and told() == []
    key = page.split('name="notice_for" type="hidden" value="')[1].split('"')[0]

    response = client.post(url, data={**edit_form(session), "notice_for": key, "tell": "y"})

    assert response.status_code == 302
    assert told() == ["p0@example.org", "p1@example.org", "p2@example.org"]
    page = client.get(response.headers["Location"]).text
    assert "Session saved. 3 people were told by e-mail." in page


def test_a_move_can_be_saved_without_telling_anyone(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    cohort, session, _people = setup(make)
    url = f"/cohorts/{cohort.id}/sessions/{session.id}/edit"
    page = client.post(url, data=edit_form(session)).text
    key = page.split('name="notice_for" type="hidden" value="')[1].split('"')[0]

    page = client.post(
        url, data={**edit_form(session), "notice_for": key}, follow_redirects=True
    ).text  # the box unticked

    assert "Session saved. Nobody was told by e-mail." in page
    assert told() == []
    assert session.starts_at.date() == (_future(12, 5)).date()


def test_an_edit_that_does_not_move_the_session_asks_nothing(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    cohort, session, _people = setup(make)
    form = {**edit_form(session, day=session.starts_at.date().isoformat()), "title": "Renamed"}
    form["start_time"], form["end_time"] = "09:00", "12:00"

    response = client.post(f"/cohorts/{cohort.id}/sessions/{session.id}/edit", data=form)

    assert response.status_code == 302
    assert session.title == "Renamed" and told() == []


def test_cancelling_shows_the_notice_and_counts_those_told(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    cohort, session, _people = setup(make, people=2)
    url = f"/cohorts/{cohort.id}/sessions/{session.id}/cancel"

    page = client.get(url).text

    assert "2 people will be told by e-mail" in page
    assert "Cancelled: Protection" in page
    assert 'name="tell"' in page and "attendance-recorded" not in page
    page = client.post(url, data={"tell": "y"}, follow_redirects=True).text
    assert (
        "Session cancelled: it stays in the schedule, struck through. 2 people were told by e-mail."
        in page
    )
    assert session.status == SessionStatus.CANCELLED
    assert told() == ["p0@example.org", "p1@example.org"]

    page = client.post(
        f"/cohorts/{cohort.id}/sessions/{session.id}/uncancel", follow_redirects=True
    ).text
    assert "Session restored. 2 people were told by e-mail." in page


def test_cancelling_without_telling(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    cohort, session, _people = setup(make)

    page = client.post(
        f"/cohorts/{cohort.id}/sessions/{session.id}/cancel",
        data={"tell": ""},  # the box unticked
        follow_redirects=True,
    ).text

    assert "Nobody was told by e-mail." in page
    assert session.status == SessionStatus.CANCELLED and told() == []


def test_cancelling_a_session_with_attendance_asks_to_confirm_and_keeps_the_records(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    cohort, session, people = setup(make)
    for enrolment in people:
        make.attendance(session, enrolment)
    url = f"/cohorts/{cohort.id}/sessions/{session.id}/cancel"
    assert "Attendance is already recorded for this session (3 records)." in client.get(url).text

    page = client.post(url, data={"tell": "y"}).text

    assert "confirm that you want to cancel it. The records are kept." in page
    assert session.status == SessionStatus.SCHEDULED and told() == []

    client.post(url, data={"tell": "y", "records_confirmed": "y"})

    assert session.status == SessionStatus.CANCELLED
    records = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AttendanceRecord)
        .where(AttendanceRecord.session_id == session.id)
    )
    assert records == 3


def test_the_cancel_page_of_another_cohorts_session_is_404(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    cohort, _session, _people = setup(make)
    _other_cohort, other, _ = setup(make, people=1, mail="other")
    assert client.get(f"/cohorts/{cohort.id}/sessions/{other.id}/cancel").status_code == 404
    assert client.post(f"/cohorts/{cohort.id}/sessions/{other.id}/cancel").status_code == 404
    assert other.status == SessionStatus.SCHEDULED


def test_a_coordinator_of_another_programme_cannot_open_the_cancel_page(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    cohort, session, _people = setup(make)
    login(Role.COORDINATOR, programmes=[make.programme()])
    assert client.get(f"/cohorts/{cohort.id}/sessions/{session.id}/cancel").status_code == 404


def test_moving_a_cancelled_session_tells_nobody_and_asks_nothing(
    client: FlaskClient, login: Any, make: Any, db_session: Any
) -> None:
    login(Role.COORDINATOR)
    cohort, session, _people = setup(make)
    session.status = SessionStatus.CANCELLED

    response = client.post(
        f"/cohorts/{cohort.id}/sessions/{session.id}/edit", data=edit_form(session)
    )

    assert response.status_code == 302
    assert session.starts_at.date() == _future(12, 5).date() and told() == []
