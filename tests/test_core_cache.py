"""Figures kept a minute in the process (``core.cache``): read once, dropped as soon as this
process writes what they count, or rolls back."""

from __future__ import annotations

from typing import Any

import pytest

from trainingmgr.core import cache
from trainingmgr.extensions import db
from trainingmgr.programmes.services import participant_counts


def test_a_value_is_kept_for_its_time_then_computed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: clock[0])
    kept: cache.TimedCache[str, int] = cache.TimedCache(60.0)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert kept.get("k", compute) == 1
    clock[0] += 59
    assert kept.get("k", compute) == 1  # still kept
    clock[0] += 2
    assert kept.get("k", compute) == 2  # expired: computed again


def test_participant_counts_are_read_once_then_follow_this_process_writes(
    make: Any, db_session: Any, count_queries: Any
) -> None:
    programme = make.programme()
    cohort = make.cohort(programme)
    make.enrolment(cohort=cohort, person=make.person())
    db.session.flush()

    assert participant_counts([programme.id]) == {programme.id: 1}
    with count_queries() as q:
        assert participant_counts([programme.id]) == {programme.id: 1}
    assert q.count == 0  # kept

    make.enrolment(cohort=cohort, person=make.person())  # written by this process
    db.session.flush()
    assert participant_counts([programme.id]) == {programme.id: 2}

    other = make.programme(code="OTHER")  # none yet: 0, kept as well
    assert participant_counts([programme.id, other.id]) == {programme.id: 2, other.id: 0}


def test_a_rollback_drops_what_was_kept(make: Any, db_session: Any) -> None:
    programme = make.programme()
    make.enrolment(cohort=make.cohort(programme), person=make.person())
    db.session.flush()
    assert participant_counts([programme.id]) == {programme.id: 1}
    assert cache._CACHES and any(c._values for c in cache._CACHES)

    db.session.rollback()

    assert not any(c._values for c in cache._CACHES)


def test_a_roster_save_drops_the_dashboard_eligibility_kept_for_its_cohort(
    make: Any, db_session: Any
) -> None:
    """Bulk statements through the session (the roster's save) drop the caches watching
    their table, as a flush does."""
    import sqlalchemy as sa

    from trainingmgr.attendance.models import AttendanceRecord, AttendanceStatus
    from trainingmgr.certificates.eligibility import eligible_ids

    cohort = make.cohort(min_attendance_pct=50)
    session = make.session(cohort=cohort)
    enrolment = make.enrolment(cohort=cohort, person=make.person())
    make.attendance(session, enrolment, AttendanceStatus.ABSENT)
    db.session.flush()
    assert eligible_ids([cohort.id]) == {cohort.id: frozenset()}

    db.session.execute(
        sa.update(AttendanceRecord)
        .where(AttendanceRecord.enrolment_id == enrolment.id)
        .values(status=AttendanceStatus.PRESENT)
    )

    assert eligible_ids([cohort.id]) == {cohort.id: frozenset({enrolment.id})}
