"""Each enrolment's attendance totals (``enrolment_attendance``), which the donor dashboard
reads, stay equal to what the attendance records say after every kind of write: they are
kept by the database's triggers, so these tests write the way each part of the app does
(ORM objects, one Core statement for many rows, updates, cascades) and compare."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories as f
from trainingmgr.attendance.models import (
    ATTENDED,
    AttendanceRecord,
    AttendanceStatus,
    EnrolmentAttendance,
)
from trainingmgr.cohorts.models import Enrolment, Session, SessionStatus
from trainingmgr.extensions import db

PRESENT = AttendanceStatus.PRESENT
EXCUSED = AttendanceStatus.EXCUSED


def _kept() -> dict[int, tuple[int, int, int]]:
    db.session.flush()
    rows = db.session.execute(
        sa.select(
            EnrolmentAttendance.enrolment_id,
            EnrolmentAttendance.attended,
            EnrolmentAttendance.excused,
            EnrolmentAttendance.centi,
        )
    )
    return {eid: (a, e, c) for eid, a, e, c in rows}


def _recounted() -> dict[int, tuple[int, int, int]]:
    """The totals worked out in Python from every enrolment's records."""
    db.session.flush()
    totals = {eid: [0, 0, 0] for eid in db.session.scalars(sa.select(Enrolment.id))}
    for record, session in db.session.execute(
        sa.select(AttendanceRecord, Session).join(
            Session, Session.id == AttendanceRecord.session_id
        )
    ):
        if session.status != SessionStatus.SCHEDULED:
            continue
        if record.status in ATTENDED:
            totals[record.enrolment_id][0] += 1
            totals[record.enrolment_id][2] += round(session.hours * 100)
        elif record.status == EXCUSED:
            totals[record.enrolment_id][1] += 1
    return {eid: (a, e, c) for eid, (a, e, c) in totals.items()}


def _of(enrolment: Enrolment) -> tuple[int, int, int]:
    kept = _kept()
    assert kept == _recounted()
    return kept[enrolment.id]


@pytest.fixture
def cohort(db_session: Any) -> Any:
    cohort = f.cohort()
    first = f.session(cohort)
    second = f.session(cohort, starts_at=first.starts_at + timedelta(days=1))
    people = [f.enrolment(cohort) for _ in range(3)]
    return cohort, first, second, people


def test_a_new_enrolment_starts_with_nothing_attended(cohort: Any) -> None:
    _cohort, _first, _second, people = cohort
    assert _of(people[0]) == (0, 0, 0)


def test_recording_and_correcting_attendance_moves_the_totals(cohort: Any) -> None:
    _cohort, first, second, people = cohort
    record = f.attendance(first, people[0], PRESENT)
    assert _of(people[0]) == (1, 0, 300)  # 3 hours
    f.attendance(second, people[0], EXCUSED)
    assert _of(people[0]) == (1, 1, 300)
    record.status = AttendanceStatus.ABSENT
    assert _of(people[0]) == (0, 1, 0)
    record.status = AttendanceStatus.LATE
    assert _of(people[0]) == (1, 1, 300)
    db.session.delete(record)
    assert _of(people[0]) == (0, 1, 0)


def test_a_whole_roster_saved_in_one_statement_counts_everyone(cohort: Any) -> None:
    """The roster writes its records with one Core statement (and corrections with one
    executemany): every person's total follows."""
    _cohort, first, _second, people = cohort
    table = AttendanceRecord.__table__
    db.session.execute(
        table.insert(),
        [
            {
                "session_id": first.id,
                "enrolment_id": e.id,
                "cohort_id": first.cohort_id,
                "status": s,
                "note": "",
                "source": "roster",
                "version": 1,
            }
            for e, s in zip(people, (PRESENT, EXCUSED, PRESENT), strict=True)
        ],
    )
    assert [_of(e) for e in people] == [(1, 0, 300), (0, 1, 0), (1, 0, 300)]
    db.session.execute(
        table.update()
        .where(table.c.enrolment_id == sa.bindparam("eid"))
        .values(status=sa.bindparam("new")),
        [{"eid": people[0].id, "new": "absent"}, {"eid": people[1].id, "new": "late"}],
    )
    assert [_of(e) for e in people] == [(0, 0, 0), (1, 0, 300), (1, 0, 300)]


def test_changing_a_sessions_times_or_cancelling_it_recounts_its_people(cohort: Any) -> None:
    _cohort, first, second, people = cohort
    f.attendance(first, people[0], PRESENT)
    f.attendance(second, people[0], PRESENT)
    assert _of(people[0]) == (2, 0, 600)
    first.ends_at = first.starts_at + timedelta(hours=1, minutes=30)
    assert _of(people[0]) == (2, 0, 450)
    second.status = SessionStatus.CANCELLED
    assert _of(people[0]) == (1, 0, 150)
    second.status = SessionStatus.SCHEDULED
    assert _of(people[0]) == (2, 0, 450)
    first.title = "Renamed"  # nothing that counts: the totals stay
    assert _of(people[0]) == (2, 0, 450)


def test_deleting_a_session_removes_its_attendance_from_the_totals(cohort: Any) -> None:
    _cohort, first, second, people = cohort
    f.attendance(first, people[1], PRESENT)
    f.attendance(second, people[1], EXCUSED)
    db.session.delete(first)
    db.session.flush()
    db.session.expire_all()
    assert _of(people[1]) == (0, 1, 0)


def test_records_moved_to_another_enrolment_move_their_totals(cohort: Any) -> None:
    """As merging two people does: the records change enrolment in one UPDATE."""
    _cohort, first, second, people = cohort
    f.attendance(first, people[0], PRESENT)
    f.attendance(second, people[0], PRESENT)
    db.session.execute(
        sa.update(AttendanceRecord)
        .where(AttendanceRecord.enrolment_id == people[0].id)
        .values(enrolment_id=people[2].id)
    )
    assert _of(people[0]) == (0, 0, 0)
    assert _of(people[2]) == (2, 0, 600)


def test_deleting_an_enrolment_leaves_no_totals_behind(cohort: Any) -> None:
    _cohort, first, _second, people = cohort
    f.attendance(first, people[0], PRESENT)
    gone = people[0].id
    db.session.delete(people[0])
    db.session.flush()
    assert gone not in _kept()
    assert _kept() == _recounted()


def test_two_rosters_saved_at_the_same_time_both_count(app: Any, committed_db: Any) -> None:
    """Two trainers save two sessions of one cohort at once: the second save waits for the
    first and the person's totals count both sessions (not whichever committed last)."""
    cohort = f.cohort()
    first_session = f.session(cohort)
    second_session = f.session(cohort, starts_at=first_session.starts_at + timedelta(days=1))
    enrolment = f.enrolment(cohort)
    committed_db.commit()
    table = AttendanceRecord.__table__
    engine = db.engine

    first_record, second_record = (
        {
            "session_id": session_id,
            "enrolment_id": enrolment.id,
            "cohort_id": cohort.id,
            "status": "present",
            "note": "",
            "source": "roster",
            "version": 1,
        }
        for session_id in (first_session.id, second_session.id)
    )
    second_saved = threading.Event()
    failures: list[BaseException] = []

    def save_second() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(table.insert(), [second_record])
            second_saved.set()
        except BaseException as exc:  # reported by the test below
            failures.append(exc)

    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(table.insert(), [first_record])
        other = threading.Thread(target=save_second)
        other.start()
        assert not second_saved.wait(0.5), "the second save should wait for the first"
        transaction.commit()
    other.join(30)
    assert failures == []
    assert second_saved.is_set()
    committed_db.rollback()  # a fresh snapshot (SQLite keeps the one the test began with)
    assert _of(enrolment) == (2, 0, 600)
