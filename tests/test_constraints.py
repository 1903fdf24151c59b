"""The database itself refuses inconsistent data, whatever the Python code does.

Each test first shows that the valid variant is accepted, then that the database raises
IntegrityError for the invalid one (on SQLite and on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from trainingmgr.accounts.models import Role, User, UserRole
from trainingmgr.attendance.models import AttendanceRecord, AttendanceStatus
from trainingmgr.cohorts.models import Cohort, Enrolment, EnrolmentStatus, Session
from trainingmgr.programmes.models import Module


@contextmanager
def refused(db_session: Any) -> Iterator[None]:
    """The writes inside the block must be refused by the database when flushed."""
    with pytest.raises(IntegrityError), db_session.begin_nested():
        yield
        db_session.flush()


def refused_sql(db_session: Any, sql: str, **params: Any) -> None:
    """Raw SQL (bypassing the ORM's own validation) must be refused by the database."""
    with refused(db_session):
        db_session.execute(sa.text(sql), params)


def test_duplicate_enrolment_is_refused(db_session: Any, make: Any) -> None:
    enrolment = make.enrolment()
    other_cohort = make.cohort(programme=enrolment.cohort.programme)
    make.enrolment(cohort=other_cohort, person=enrolment.person)  # another cohort: fine

    with refused(db_session):
        db_session.add(Enrolment(cohort_id=enrolment.cohort_id, person_id=enrolment.person_id))


@pytest.fixture
def two_cohorts(make: Any) -> dict[str, Any]:
    """A session and an enrolment in cohort A, and the same in cohort B."""
    programme = make.programme()
    a, b = make.cohort(programme=programme), make.cohort(programme=programme)
    return {
        "a": a,
        "b": b,
        "session_a": make.session(cohort=a),
        "enrolment_a": make.enrolment(cohort=a),
        "session_b": make.session(cohort=b),
        "enrolment_b": make.enrolment(cohort=b),
    }


def _record(session_id: int, enrolment_id: int, cohort_id: int) -> AttendanceRecord:
    return AttendanceRecord(
        session_id=session_id,
        enrolment_id=enrolment_id,
        cohort_id=cohort_id,
        status=AttendanceStatus.PRESENT,
    )


def test_attendance_within_one_cohort_is_accepted(db_session: Any, two_cohorts: Any) -> None:
    s, e, c = two_cohorts["session_a"], two_cohorts["enrolment_a"], two_cohorts["a"]
    db_session.add(_record(s.id, e.id, c.id))
    db_session.flush()
    assert db_session.scalar(sa.select(sa.func.count(AttendanceRecord.id))) == 1


@pytest.mark.parametrize("cohort_key", ["a", "b"])
def test_attendance_for_a_session_of_another_cohort_is_refused(
    db_session: Any, two_cohorts: Any, cohort_key: str
) -> None:
    """Session of cohort A, enrolment of cohort B: refused whichever cohort_id is claimed."""
    session_a, enrolment_b = two_cohorts["session_a"], two_cohorts["enrolment_b"]
    with refused(db_session):
        db_session.add(_record(session_a.id, enrolment_b.id, two_cohorts[cohort_key].id))
    assert db_session.scalar(sa.select(sa.func.count(AttendanceRecord.id))) == 0


def test_second_attendance_record_for_the_same_session_and_enrolment_is_refused(
    db_session: Any, make: Any, two_cohorts: Any
) -> None:
    s, e = two_cohorts["session_a"], two_cohorts["enrolment_a"]
    make.attendance(s, e)
    with refused(db_session):
        db_session.add(_record(s.id, e.id, s.cohort_id))


def test_session_ending_before_it_starts_is_refused(db_session: Any, make: Any) -> None:
    cohort = make.cohort()
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with refused(db_session):
        db_session.add(
            Session(cohort=cohort, starts_at=start, ends_at=start - timedelta(minutes=1))
        )
    with refused(db_session):
        db_session.add(Session(cohort_id=cohort.id, starts_at=start, ends_at=start))


def test_cohort_ending_before_it_starts_is_refused(db_session: Any, make: Any) -> None:
    programme = make.programme()
    make.cohort(programme=programme, start_date=date(2026, 3, 2), end_date=date(2026, 3, 2))
    with refused(db_session):
        db_session.add(
            Cohort(
                programme_id=programme.id,
                name="Backwards",
                start_date=date(2026, 3, 13),
                end_date=date(2026, 3, 2),
            )
        )


def test_unknown_enum_value_is_refused(db_session: Any, make: Any) -> None:
    enrolment = make.enrolment()
    refused_sql(
        db_session,
        "UPDATE enrolments SET status = 'bogus' WHERE id = :id",
        id=enrolment.id,
    )
    refused_sql(
        db_session,
        "INSERT INTO user_roles (user_id, role) VALUES (:uid, 'superuser')",
        uid=make.user().id,
    )
    assert db_session.get(Enrolment, enrolment.id).status == EnrolmentStatus.ENROLLED


def test_email_must_be_lowercase(db_session: Any, make: Any) -> None:
    with refused(db_session):
        db_session.add(
            User(email="Ana.Mammadova@Example.org", role_rows=[UserRole(role=Role.TRAINER)])
        )
    person = make.person(email="ilkin@example.org")
    refused_sql(
        db_session,
        "UPDATE people SET email = 'Ilkin@Example.org' WHERE id = :id",
        id=person.id,
    )


def test_waitlisted_enrolment_needs_a_position(db_session: Any, make: Any) -> None:
    cohort = make.cohort()
    make.enrolment(cohort=cohort, status=EnrolmentStatus.WAITLISTED, waitlist_position=1)
    with refused(db_session):
        db_session.add(
            Enrolment(
                cohort_id=cohort.id,
                person_id=make.person().id,
                status=EnrolmentStatus.WAITLISTED,
            )
        )
    # ...and only waitlisted enrolments have one.
    with refused(db_session):
        db_session.add(
            Enrolment(
                cohort_id=cohort.id,
                person_id=make.person().id,
                status=EnrolmentStatus.ENROLLED,
                waitlist_position=2,
            )
        )


def test_duplicate_module_code_in_a_programme_is_refused(db_session: Any, make: Any) -> None:
    module = make.module(code="MIL")
    make.module(code="MIL")  # same code in another programme: fine
    with refused(db_session):
        db_session.add(Module(programme_id=module.programme_id, code="MIL", title="Again"))
