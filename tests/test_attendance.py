"""The session roster: who may record, one-tap statuses saved in one bulk transaction,
corrections audited, conflicts between two people saving the same roster, and the
trainer's "My sessions" page."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import on_postgres
from trainingmgr.accounts.models import Role, User
from trainingmgr.attendance import access
from trainingmgr.attendance import roster as rosters
from trainingmgr.attendance.models import AttendanceRecord, AttendanceSource, AttendanceStatus
from trainingmgr.attendance.roster import RowChange
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts.models import EnrolmentStatus, SessionStatus
from trainingmgr.core.errors import DomainError, Forbidden
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.home import services as home

P, L, E, A = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)
NOW = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def roster_setup(make: Any, n: int = 3, starts_at: datetime | None = None) -> SimpleNamespace:
    """A cohort with ``n`` enrolled people and one session taught by a trainer."""
    cohort = make.cohort()
    trainer = make.user(role=Role.TRAINER)
    session = make.session(cohort=cohort, starts_at=starts_at or NOW - timedelta(hours=1))
    session.trainers.append(trainer.person)
    enrolments = [
        make.enrolment(cohort=cohort, person=make.person(first_name="Ada", last_name=f"P{i:03d}"))
        for i in range(n)
    ]
    db.session.flush()
    return SimpleNamespace(cohort=cohort, session=session, trainer=trainer, enrolments=enrolments)


def records(session_id: int) -> dict[int, AttendanceRecord]:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(AttendanceRecord).where(AttendanceRecord.session_id == session_id)
    )
    return {r.enrolment_id: r for r in rows}


def change(enrolment_id: int, status: AttendanceStatus | None, **loaded: Any) -> RowChange:
    return RowChange(enrolment_id=enrolment_id, status=status, **loaded)


def as_loaded(roster: rosters.Roster) -> dict[int, dict[str, Any]]:
    """What a roster page carries for each row: the loaded status, note and version."""
    return {
        r.enrolment.id: {
            "loaded_status": r.record.status if r.record else None,
            "loaded_note": r.record.note if r.record else "",
            "loaded_version": r.record.version if r.record else 0,
        }
        for r in roster.rows
    }


def checked(page: str, enrolment_id: int) -> str | None:
    """The status whose radio button is checked on a roster page for one person."""
    found = re.findall(
        rf'<input [^>]*\bchecked\b[^>]*data-testid="status-{enrolment_id}-(\w+)"', page
    )
    assert len(found) <= 1
    return found[0] if found else None


def form_data(rows: list[dict[str, Any]]) -> dict[str, str]:
    """The POST body of the roster form."""
    data: dict[str, str] = {}
    for i, row in enumerate(rows):
        data[f"rows-{i}-enrolment_id"] = str(row["enrolment_id"])
        if row.get("status"):
            data[f"rows-{i}-status"] = str(row["status"])
        data[f"rows-{i}-note"] = row.get("note", "")
        data[f"rows-{i}-loaded_status"] = str(row.get("loaded_status") or "")
        data[f"rows-{i}-loaded_note"] = row.get("loaded_note", "")
        data[f"rows-{i}-loaded_version"] = str(row.get("loaded_version", 0))
    return data


# --------------------------------------------------------------------------- permissions


def test_can_record_only_own_sessions_unless_coordinator(make: Any, db_session: Any) -> None:
    s = roster_setup(make)
    other_trainer = make.user(role=Role.TRAINER)
    participant = make.user(role=Role.PARTICIPANT, person=s.enrolments[0].person)
    coordinator = make.user(role=Role.COORDINATOR, programmes=[s.session.cohort.programme])
    admin = make.user(role=Role.ADMIN)
    session = access.load_session(s.session.id)

    assert access.can_record(session, actor=s.trainer)
    assert access.can_record(session, actor=coordinator)
    assert access.can_record(session, actor=admin)
    assert not access.can_record(session, actor=other_trainer)
    assert not access.can_record(session, actor=participant)
    with pytest.raises(Forbidden):
        rosters.save_roster(
            s.session.id, [change(s.enrolments[0].id, P)], now=NOW, actor=other_trainer
        )
    assert records(s.session.id) == {}


def test_trainer_cannot_post_to_another_trainers_roster(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = roster_setup(make, starts_at=utcnow() - timedelta(hours=1))
    login(user=make.user(role=Role.TRAINER))
    data = form_data([{"enrolment_id": e.id, "status": "present"} for e in s.enrolments])

    assert client.get(f"/sessions/{s.session.id}/attendance").status_code == 403
    assert client.post(f"/sessions/{s.session.id}/attendance", data=data).status_code == 403
    assert records(s.session.id) == {}


def test_participant_gets_403_on_roster(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = roster_setup(make, starts_at=utcnow() - timedelta(hours=1))
    login(user=make.user(role=Role.PARTICIPANT, person=s.enrolments[0].person))
    data = form_data([{"enrolment_id": s.enrolments[0].id, "status": "present"}])

    assert client.get(f"/sessions/{s.session.id}/attendance").status_code == 403
    assert client.post(f"/sessions/{s.session.id}/attendance", data=data).status_code == 403
    assert records(s.session.id) == {}


def test_unknown_session_is_404(client: Any, login: Any, db_session: Any) -> None:
    login(Role.COORDINATOR)
    assert client.get("/sessions/999999/attendance").status_code == 404
    assert client.post("/sessions/999999/attendance", data={}).status_code == 404


def test_enrolment_of_another_cohort_is_refused_and_nothing_written(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = roster_setup(make, starts_at=utcnow() - timedelta(hours=1))
    stranger = make.enrolment()  # another cohort
    login(user=s.trainer)
    rows = [{"enrolment_id": e.id, "status": "present"} for e in s.enrolments]
    rows.append({"enrolment_id": stranger.id, "status": "absent"})

    response = client.post(f"/sessions/{s.session.id}/attendance", data=form_data(rows))

    assert response.status_code == 400
    assert "no longer enrolled" in response.get_data(as_text=True)
    assert records(s.session.id) == {}


# --------------------------------------------------------------------------- saving


def test_save_roster_records_statuses_notes_and_who(make: Any, db_session: Any) -> None:
    s = roster_setup(make)
    e1, e2, e3 = s.enrolments

    result = rosters.save_roster(
        s.session.id,
        [change(e1.id, P), change(e2.id, A, note="ill"), change(e3.id, None)],
        now=NOW,
        actor=s.trainer,
    )

    assert (result.recorded, result.corrected, result.conflicts) == (2, 0, [])
    saved = records(s.session.id)
    assert set(saved) == {e1.id, e2.id}  # nobody chose a status for e3
    assert saved[e2.id].status == A and saved[e2.id].note == "ill"
    assert saved[e1.id].recorded_by_id == s.trainer.id
    assert saved[e1.id].recorded_at == NOW
    assert saved[e1.id].source == AttendanceSource.ROSTER
    assert saved[e1.id].version == 1


def test_unchanged_rows_are_not_written(make: Any, db_session: Any) -> None:
    s = roster_setup(make)
    e1, e2, _ = s.enrolments
    earlier = NOW - timedelta(minutes=30)
    other = make.user(role=Role.COORDINATOR)
    make.attendance(s.session, e1, P, recorded_by_id=other.id, recorded_at=earlier)
    loaded = as_loaded(rosters.load_roster(s.session.id, now=NOW, actor=s.trainer))

    result = rosters.save_roster(
        s.session.id,
        [change(e1.id, P, **loaded[e1.id]), change(e2.id, L)],
        now=NOW,
        actor=s.trainer,
    )

    assert (result.recorded, result.corrected) == (1, 0)
    first = records(s.session.id)[e1.id]
    assert (first.recorded_by_id, first.recorded_at, first.version) == (other.id, earlier, 1)


def test_note_without_status_is_refused(make: Any, db_session: Any) -> None:
    s = roster_setup(make)
    with pytest.raises(DomainError) as err:
        rosters.save_roster(
            s.session.id, [change(s.enrolments[0].id, None, note="x")], now=NOW, actor=s.trainer
        )
    assert err.value.field == f"enrolment-{s.enrolments[0].id}"


def test_cancelled_and_future_sessions_cannot_be_recorded(make: Any, db_session: Any) -> None:
    s = roster_setup(make)
    future = make.session(cohort=s.cohort, starts_at=NOW + timedelta(days=2))
    future.trainers.append(s.trainer.person)
    s.session.status = SessionStatus.CANCELLED
    db.session.flush()

    for session in (s.session, future):
        with pytest.raises(DomainError):
            rosters.save_roster(
                session.id, [change(s.enrolments[0].id, P)], now=NOW, actor=s.trainer
            )
    assert rosters.load_roster(future.id, now=NOW, actor=s.trainer).refusal is not None
    assert records(s.session.id) == {} and records(future.id) == {}


def test_later_the_same_day_is_recordable(make: Any, db_session: Any) -> None:
    """A trainer may open today's roster before the session starts (cohort's day)."""
    s = roster_setup(make, starts_at=NOW + timedelta(hours=3))  # Baku: 13:00 -> 16:00
    assert rosters.load_roster(s.session.id, now=NOW, actor=s.trainer).refusal is None


def test_correction_is_audited_with_old_and_new_values(make: Any, db_session: Any) -> None:
    s = roster_setup(make)
    e1, e2, _ = s.enrolments
    rosters.save_roster(
        s.session.id, [change(e1.id, P), change(e2.id, P)], now=NOW, actor=s.trainer
    )
    loaded = as_loaded(rosters.load_roster(s.session.id, now=NOW, actor=s.trainer))
    coordinator = make.user(role=Role.COORDINATOR, programmes=[s.session.cohort.programme])

    result = rosters.save_roster(
        s.session.id,
        [change(e1.id, E, note="doctor", **loaded[e1.id]), change(e2.id, P, **loaded[e2.id])],
        now=NOW + timedelta(hours=1),
        actor=coordinator,
    )

    assert (result.recorded, result.corrected) == (0, 1)
    rec = records(s.session.id)[e1.id]
    assert (rec.status, rec.note, rec.version, rec.recorded_by_id) == (
        E,
        "doctor",
        2,
        coordinator.id,
    )
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "attendance.correct")
    ).all()
    assert len(events) == 1
    event = events[0]
    assert event.actor_id == coordinator.id
    assert (event.object_type, event.object_id) == ("sessions", s.session.id)
    assert event.programme_id == s.cohort.programme_id
    assert event.changes["corrections"] == [
        {
            "record_id": rec.id,
            "enrolment_id": e1.id,
            "person": e1.person.full_name,
            "status": ["present", "excused"],
            "note": ["", "doctor"],
        }
    ]
    assert "present -> excused" in event.summary


# --------------------------------------------------------------------------- conflicts


def test_second_save_of_same_loaded_roster_reports_conflict_and_merges_others(
    make: Any, db_session: Any
) -> None:
    s = roster_setup(make, n=4)
    e1, e2, e3, e4 = s.enrolments
    make.attendance(s.session, e4, P)
    coordinator = make.user(
        role=Role.COORDINATOR,
        programmes=[s.session.cohort.programme],
        display_name="Coordinator Kim",
    )
    loaded = as_loaded(rosters.load_roster(s.session.id, now=NOW, actor=s.trainer))

    first = rosters.save_roster(
        s.session.id,
        [change(e1.id, A, **loaded[e1.id]), change(e2.id, L, **loaded[e2.id])],
        now=NOW,
        actor=s.trainer,
    )
    second = rosters.save_roster(
        s.session.id,
        [
            change(e1.id, E, **loaded[e1.id]),  # conflicts with the trainer's "absent"
            change(e2.id, L, **loaded[e2.id]),  # the same change: no conflict
            change(e3.id, P, **loaded[e3.id]),  # nobody else touched: saved
            change(e4.id, A, **loaded[e4.id]),  # correction, untouched by the other: saved
        ],
        now=NOW + timedelta(minutes=1),
        actor=coordinator,
    )

    assert first.conflicts == []
    assert [c.enrolment_id for c in second.conflicts] == [e1.id]
    conflict = second.conflicts[0]
    assert (conflict.your_status, conflict.their_status) == (E, A)
    assert conflict.by == s.trainer.name and conflict.at == NOW
    assert (second.recorded, second.corrected) == (1, 1)
    saved = records(s.session.id)
    assert {k: v.status for k, v in saved.items()} == {e1.id: A, e2.id: L, e3.id: P, e4.id: A}
    assert saved[e1.id].recorded_by_id == s.trainer.id


def test_changes_to_different_fields_of_one_person_are_merged(make: Any, db_session: Any) -> None:
    s = roster_setup(make)
    e1 = s.enrolments[0]
    make.attendance(s.session, e1, P)
    loaded = as_loaded(rosters.load_roster(s.session.id, now=NOW, actor=s.trainer))[e1.id]
    coordinator = make.user(role=Role.COORDINATOR, programmes=[s.session.cohort.programme])

    rosters.save_roster(
        s.session.id, [change(e1.id, P, note="left early", **loaded)], actor=s.trainer
    )
    result = rosters.save_roster(
        s.session.id, [change(e1.id, L, **loaded)], now=NOW, actor=coordinator
    )

    assert result.conflicts == []
    rec = records(s.session.id)[e1.id]
    assert (rec.status, rec.note, rec.version) == (L, "left early", 3)


def test_roster_page_shows_conflict_to_second_user(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = roster_setup(make, starts_at=utcnow() - timedelta(hours=1))
    e1, e2, _ = s.enrolments
    first_user = make.user(
        role=Role.COORDINATOR,
        programmes=[s.session.cohort.programme],
        display_name="Nigar Coordinator",
    )
    rosters.save_roster(s.session.id, [change(e1.id, A, note="no show")], actor=first_user)
    login(user=s.trainer)
    # The trainer's page was loaded before that save: no record, version 0.
    rows = [
        {"enrolment_id": e1.id, "status": "present"},
        {"enrolment_id": e2.id, "status": "present"},
    ]

    response = client.post(f"/sessions/{s.session.id}/attendance", data=form_data(rows))

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-testid="conflict-{e1.id}"' in page
    assert "Nigar Coordinator" in page and "no show" in page
    assert "you chose Present" in page
    saved = records(s.session.id)
    assert saved[e1.id].status == A and saved[e2.id].status == P


# --------------------------------------------------------------------------- concurrency


def _save_in_thread(
    app: Any, user_id: int, session_id: int, rows: list[RowChange], barrier: Any, out: list[Any]
) -> None:
    with app.app_context():
        try:
            user = db.session.get(User, user_id)
            if barrier is not None:
                barrier.wait(timeout=10)
            result = rosters.save_roster(session_id, rows, actor=user)
            db.session.commit()
            out.append(result)
        except Exception as exc:  # reported to the test thread
            db.session.rollback()
            out.append(exc)
        finally:
            db.session.remove()


def test_two_people_saving_the_same_roster_at_once(app: Any, committed_db: Any, make: Any) -> None:
    """On PostgreSQL two threads save at the same moment (real commits); on SQLite, which
    serialises writers, the same saves run one after the other."""
    s = roster_setup(make, n=3, starts_at=utcnow() - timedelta(hours=1))
    coordinator = make.user(role=Role.COORDINATOR, programmes=[s.session.cohort.programme])
    e1, e2, e3 = (e.id for e in s.enrolments)
    session_id = s.session.id
    trainer_rows = [change(e1, P), change(e2, L)]
    coordinator_rows = [change(e1, A), change(e3, E)]
    jobs = [(s.trainer.id, trainer_rows), (coordinator.id, coordinator_rows)]
    committed_db.commit()  # and read nothing more here: SQLite would hold a read lock
    results: list[Any] = []

    if on_postgres():
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(
                target=_save_in_thread,
                args=(app, uid, session_id, rows, barrier, results),
            )
            for uid, rows in jobs
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:
        for uid, rows in jobs:
            _save_in_thread(app, uid, session_id, rows, None, results)

    assert len(results) == 2
    assert not [r for r in results if isinstance(r, Exception)], results
    conflicts = [c for r in results for c in r.conflicts]
    assert [c.enrolment_id for c in conflicts] == [e1]  # exactly one loser, on e1 only
    final = records(session_id)
    assert final[e2].status == L and final[e3].status == E  # both merged
    assert final[e1].status in (P, A) and final[e1].version == 1


# --------------------------------------------------------------------------- bulk writes


def _big_roster_counts(make: Any, count_queries: Any, n: int) -> tuple[int, int]:
    s = roster_setup(make, n=n)
    with count_queries() as first:
        result = rosters.save_roster(
            s.session.id, [change(e.id, P) for e in s.enrolments], now=NOW, actor=s.trainer
        )
    assert result.recorded == n
    loaded = as_loaded(rosters.load_roster(s.session.id, now=NOW, actor=s.trainer))
    with count_queries() as correction:
        result = rosters.save_roster(
            s.session.id,
            [change(e.id, A, **loaded[e.id]) for e in s.enrolments],
            now=NOW,
            actor=s.trainer,
        )
    assert result.corrected == n
    return first.count, correction.count


def test_saving_120_people_is_a_constant_number_of_statements(
    make: Any, db_session: Any, count_queries: Any
) -> None:
    small = _big_roster_counts(make, count_queries, 3)
    big = _big_roster_counts(make, count_queries, 120)

    assert big == small
    # The session (locked, with "teaches it?"), what is recorded now, one INSERT of everyone;
    # then the same two reads, one audit event and one UPDATE of everyone.
    assert big[0] <= 3 and big[1] <= 4
    assert len(records_of_status(A)) == 123


@pytest.mark.parametrize(
    "note",
    [
        'a "quoted", comma, {braces} and NULL',
        "two\nlines\tand a tab",
        "Мамедова Гюльнара — Məmmədova Gülnarə, 東京 😀",
        "\\ back\\slash '; DROP TABLE attendance_records; --",
        "x" * 500,
    ],
)
def test_notes_of_a_whole_roster_are_saved_as_typed(make: Any, db_session: Any, note: str) -> None:
    """The new records of a save go to the database as arrays on PostgreSQL: whatever a
    trainer types in a note (quotes, commas, braces, the word NULL, line breaks, any script,
    the longest note) comes back exactly, on the right person."""
    s = roster_setup(make, n=3)
    statuses = [P, E, L]
    notes = [note, "", note[::-1]]
    rosters.save_roster(
        s.session.id,
        [
            RowChange(enrolment_id=e.id, status=status, note=text)
            for e, status, text in zip(s.enrolments, statuses, notes, strict=True)
        ],
        now=NOW,
        actor=s.trainer,
    )
    saved = records(s.session.id)
    assert [(saved[e.id].status, saved[e.id].note) for e in s.enrolments] == list(
        zip(statuses, notes, strict=True)
    )
    assert {r.source for r in saved.values()} == {AttendanceSource.ROSTER}
    assert {(r.recorded_by_id, r.version, r.cohort_id) for r in saved.values()} == {
        (s.trainer.id, 1, s.cohort.id)
    }


def records_of_status(status: AttendanceStatus) -> list[AttendanceRecord]:
    return list(
        db.session.scalars(sa.select(AttendanceRecord).where(AttendanceRecord.status == status))
    )


# --------------------------------------------------------------------------- roster page


def test_roster_page_lists_people_with_statuses_and_who_recorded(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = roster_setup(make, starts_at=utcnow() - timedelta(hours=1))
    e1, e2, e3 = s.enrolments
    e3.status = EnrolmentStatus.WITHDRAWN
    recorder = make.user(role=Role.COORDINATOR, display_name="Rəna Recorder")
    at = datetime(2026, 3, 5, 6, 7, tzinfo=UTC)  # 10:07 in Baku
    make.attendance(s.session, e1, L, recorded_by_id=recorder.id, recorded_at=at, note="bus")
    login(user=s.trainer)

    page = client.get(f"/sessions/{s.session.id}/attendance").get_data(as_text=True)

    assert f'data-testid="roster-row-{e1.id}"' in page
    assert f'data-testid="roster-row-{e2.id}"' in page
    assert f'data-testid="roster-row-{e3.id}"' not in page  # withdrawn: not on the roster
    assert "Rəna Recorder" in page and "10:07" in page and "bus" in page
    assert checked(page, e1.id) == "late"
    assert checked(page, e2.id) is None
    assert "Recorded: 1 of 2" in page
    assert "data-mark-all-present" in page


def test_mark_all_present_fallback_preselects_unrecorded_people(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = roster_setup(make, starts_at=utcnow() - timedelta(hours=1))
    e1 = s.enrolments[0]
    make.attendance(s.session, e1, E)
    login(user=s.trainer)

    page = client.get(f"/sessions/{s.session.id}/attendance?mark=present").get_data(as_text=True)

    assert [checked(page, e.id) for e in s.enrolments] == ["excused", "present", "present"]
    assert records(s.session.id)[e1.id].status == E  # nothing saved by a GET


def test_save_through_the_page(client: Any, login: Any, make: Any, db_session: Any) -> None:
    s = roster_setup(make, starts_at=utcnow() - timedelta(hours=1))
    e1, e2, e3 = s.enrolments
    login(user=s.trainer)
    rows = [
        {"enrolment_id": e1.id, "status": "present"},
        {"enrolment_id": e2.id, "status": "absent", "note": " sick "},
        {"enrolment_id": e3.id, "status": "present"},
    ]

    response = client.post(f"/sessions/{s.session.id}/attendance", data=form_data(rows))

    assert response.status_code == 302
    saved = records(s.session.id)
    assert {k: v.status for k, v in saved.items()} == {e1.id: P, e2.id: A, e3.id: P}
    assert saved[e2.id].note == "sick"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Attendance saved: 3 recorded, 0 corrected." in page


def test_bad_input_writes_nothing(client: Any, login: Any, make: Any, db_session: Any) -> None:
    s = roster_setup(make, starts_at=utcnow() - timedelta(hours=1))
    e1, e2, _ = s.enrolments
    login(user=s.trainer)
    url = f"/sessions/{s.session.id}/attendance"

    bad_status = form_data(
        [{"enrolment_id": e1.id, "status": "present"}, {"enrolment_id": e2.id, "status": "asleep"}]
    )
    long_note = form_data([{"enrolment_id": e1.id, "status": "present", "note": "x" * 501}])
    note_only = form_data([{"enrolment_id": e1.id, "note": "where?"}])

    for data in (bad_status, long_note, note_only):
        response = client.post(url, data=data)
        assert response.status_code == 400
        assert "Nothing was saved" in response.get_data(as_text=True)
    assert records(s.session.id) == {}


_ROW_CASES = [
    {"enrolment_id": "7", "status": "present", "loaded_status": "", "loaded_version": "0"},
    {"enrolment_id": "7", "status": "", "note": "  late bus ", "loaded_status": "absent"},
    {"enrolment_id": "7", "loaded_status": "late", "loaded_note": "x", "loaded_version": "3"},
    {"enrolment_id": "7", "status": "asleep", "loaded_status": ""},
    {"enrolment_id": "7", "status": "present", "note": "x" * 501, "loaded_status": ""},
    {"enrolment_id": "7", "status": "present", "note": " " + "x" * 500 + " ", "loaded_status": ""},
    {"enrolment_id": "7", "status": "present", "loaded_status": "gone"},
    {"enrolment_id": "7", "status": "present"},  # no loaded status: refused by AnyOf
    {"enrolment_id": "7", "status": "present", "loaded_status": "", "loaded_version": "-1"},
    {"enrolment_id": "7", "status": "present", "loaded_status": "", "loaded_version": "x"},
    {"enrolment_id": "seven", "status": "present", "loaded_status": ""},
    {"enrolment_id": "", "status": "present", "loaded_status": ""},
    {"enrolment_id": "٧", "status": "present", "loaded_status": ""},  # Arabic-Indic 7
]


@pytest.mark.parametrize("fields", _ROW_CASES)
def test_a_row_read_without_wtforms_is_one_wtforms_accepts_and_reads_alike(
    app: Any, fields: dict[str, str]
) -> None:
    """The roster save reads plainly valid rows without WTForms (its speed); every other row
    goes through ``RosterRowForm`` and its messages. Both must agree on what they accept."""
    from werkzeug.datastructures import MultiDict

    from trainingmgr.attendance.forms import RosterRowForm, _RowData, plainly_valid_row

    formdata = MultiDict({f"rows-0-{k}": v for k, v in fields.items()})
    fast = plainly_valid_row(formdata, "rows-0-")
    with app.test_request_context():
        form = RosterRowForm()
        form.process(_RowData(formdata, "rows-0-"))
        accepted = form.validate()
        if fast is None:
            return  # WTForms reads it, with its messages if something is wrong
        assert accepted, form.errors
        assert fast == RowChange(
            enrolment_id=form.enrolment_id.data,
            status=AttendanceStatus(form.status.data) if form.status.data else None,
            note=form.note.data or "",
            loaded_status=AttendanceStatus(form.loaded_status.data)
            if form.loaded_status.data
            else None,
            loaded_note=form.loaded_note.data or "",
            loaded_version=form.loaded_version.data or 0,
        )


def test_rows_refused_show_wtforms_messages(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = roster_setup(make, starts_at=utcnow() - timedelta(hours=1))
    e1, e2, _ = s.enrolments
    login(user=s.trainer)
    data = form_data(
        [
            {"enrolment_id": e1.id, "status": "present", "note": "x" * 501},
            {"enrolment_id": e2.id, "status": "asleep"},
        ]
    )
    page = client.post(f"/sessions/{s.session.id}/attendance", data=data).get_data(as_text=True)
    assert "Field cannot be longer than 500 characters." in page
    assert "Not a valid choice." in page
    assert records(s.session.id) == {}


def test_cancelled_session_roster_is_read_only(
    client: Any, login: Any, make: Any, db_session: Any
) -> None:
    s = roster_setup(make, starts_at=utcnow() - timedelta(hours=1))
    s.session.status = SessionStatus.CANCELLED
    db.session.flush()
    login(user=s.trainer)
    url = f"/sessions/{s.session.id}/attendance"

    page = client.get(url).get_data(as_text=True)
    response = client.post(
        url, data=form_data([{"enrolment_id": s.enrolments[0].id, "status": "present"}])
    )

    assert 'data-testid="roster-readonly"' in page and "save-roster" not in page
    assert response.status_code == 400 and "cancelled" in response.get_data(as_text=True)
    assert records(s.session.id) == {}


def _roster_page_queries(client: Any, login: Any, make: Any, count_queries: Any, n: int) -> int:
    s = roster_setup(make, n=n, starts_at=utcnow() - timedelta(hours=1))
    recorder = make.user(role=Role.COORDINATOR)
    for e in s.enrolments:
        make.attendance(s.session, e, P, recorded_by_id=recorder.id)
    login(user=s.trainer)
    db.session.expire_all()
    with count_queries() as q:
        response = client.get(f"/sessions/{s.session.id}/attendance")
    assert response.status_code == 200
    return q.count


def test_roster_page_query_count_does_not_grow(
    client: Any, login: Any, make: Any, db_session: Any, count_queries: Any
) -> None:
    small = _roster_page_queries(client, login, make, count_queries, 3)
    big = _roster_page_queries(client, login, make, count_queries, 120)
    assert small == big
    # The sign-in with the user's person, roles and the organisation's settings, the session
    # with "teaches it?", the rows, and the test's own sign-in bookkeeping: no per-row query,
    # and none of those the roster used to add (stored roles, derived roles, trainers, the
    # organisation's name, a separate "teaches it?").
    assert big <= 4


def test_a_coordinators_roster_page_runs_one_query_more_than_the_trainers(
    client: Any, login: Any, make: Any, db_session: Any, count_queries: Any
) -> None:
    """The programmes a coordinator coordinates come with the sign-in: the page adds only
    the request-level scope check (is this session in their programmes?)."""
    s = roster_setup(make, n=5, starts_at=utcnow() - timedelta(hours=1))
    coordinator = make.user(role=Role.COORDINATOR)
    coordinator.programmes.append(s.cohort.programme)
    db.session.flush()
    login(user=coordinator)
    db.session.expire_all()
    with count_queries() as q:
        response = client.get(f"/sessions/{s.session.id}/attendance")
    assert response.status_code == 200 and "save-roster" in response.get_data(as_text=True)
    assert q.count <= 5


# --------------------------------------------------------------------------- my sessions


def test_my_sessions_today_upcoming_then_past_missing_attendance(
    make: Any, db_session: Any
) -> None:
    now = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)  # 16:00 in Baku
    s = roster_setup(make, n=2, starts_at=now - timedelta(hours=5))  # today, ended
    person = s.trainer.person

    def taught(**kw: Any) -> Any:
        session = make.session(cohort=s.cohort, **kw)
        session.trainers.append(person)
        return session

    tomorrow = taught(starts_at=now + timedelta(days=1))
    past_missing = taught(starts_at=now - timedelta(days=2))
    past_partial = taught(starts_at=now - timedelta(days=3))
    past_done = taught(starts_at=now - timedelta(days=4))
    taught(starts_at=now - timedelta(days=5), status=SessionStatus.CANCELLED)
    make.session(cohort=s.cohort, starts_at=now - timedelta(days=1))  # someone else's
    make.attendance(past_partial, s.enrolments[0], P)
    for e in s.enrolments:
        make.attendance(past_done, e, A)
    db.session.flush()

    upcoming = home.trainer_sessions(person.id, now=now)
    past = home.trainer_sessions(person.id, now=now, upcoming=False, limit=10)

    assert [x.id for x in upcoming] == [s.session.id, tomorrow.id]
    assert [x.id for x in past] == [past_missing.id, past_partial.id]


def test_trainer_home_links_to_rosters(client: Any, login: Any, make: Any, db_session: Any) -> None:
    s = roster_setup(make, starts_at=utcnow() + timedelta(hours=2))
    login(user=s.trainer)
    page = client.get("/trainer").get_data(as_text=True)
    assert f'href="/sessions/{s.session.id}/attendance"' in page
    assert f'href="/sessions/{s.session.id}/checkin-screen"' in page
