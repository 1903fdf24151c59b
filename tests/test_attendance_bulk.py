"""Attendance counted by the database (``attendance.bulk``) agrees with the one rule
(``attendance_summary``), and eligibility is decided on both sides of every boundary: the
attendance rate, the hours and the required modules. Runs on SQLite and on PostgreSQL
(``TEST_DATABASE_URL``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from trainingmgr.attendance import bulk
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.attendance.summary import SessionFilter, attendance_summary
from trainingmgr.certificates.eligibility import eligibility
from trainingmgr.cohorts.models import EnrolmentStatus, SessionStatus
from trainingmgr.extensions import db

P, L, E, A = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)
START = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)


def _session(make: Any, cohort: Any, day: int, minutes: int, module: Any = None) -> Any:
    starts = START + timedelta(days=day)
    return make.session(
        cohort=cohort, module=module, starts_at=starts, ends_at=starts + timedelta(minutes=minutes)
    )


def _mixed_cohort(make: Any) -> tuple[Any, list[Any], list[Any], Any]:
    """Sessions of odd lengths (50 min is 0.83 h), one cancelled, one not held; active,
    completed and withdrawn enrolments; every status; random but reproducible."""
    rng = random.Random(16)
    programme = make.programme()
    modules = [make.module(programme, code=f"M{i}") for i in range(3)]
    cohort = make.cohort(programme, min_attendance_pct=75, min_hours=Decimal("5"))
    held = [
        _session(make, cohort, day, minutes, modules[day % 3])
        for day, minutes in enumerate([50, 80, 90, 185, 50, 47, 120, 80])
    ]
    cancelled = _session(make, cohort, 9, 60, modules[0])
    not_held = _session(make, cohort, 10, 60, modules[1])
    enrolments = [make.enrolment(cohort=cohort) for _ in range(12)]
    enrolments.append(make.enrolment(cohort=cohort, status=EnrolmentStatus.COMPLETED))
    withdrawn = make.enrolment(cohort=cohort, status=EnrolmentStatus.WITHDRAWN)
    for enrolment in [*enrolments, withdrawn]:
        for session in [*held, cancelled]:
            choice = rng.choice([P, P, P, L, E, A, None])
            if choice is not None:
                make.attendance(session, enrolment, choice)
    cancelled.status = SessionStatus.CANCELLED
    db.session.flush()
    assert not_held.id not in bulk.held_sessions(cohort.id)
    return cohort, held, enrolments, withdrawn


def test_the_database_counts_what_the_rule_counts(make: Any, db_session: Any) -> None:
    cohort, held, enrolments, withdrawn = _mixed_cohort(make)
    expected = attendance_summary(cohort.id)

    assert bulk.attendance_summaries(cohort.id) == expected
    assert set(expected) == {e.id for e in enrolments}
    assert any(s.hours != s.hours.to_integral_value() for s in expected.values())
    chosen = [withdrawn.id, enrolments[0].id]
    assert bulk.attendance_summaries(cohort.id, chosen) == attendance_summary(cohort.id, chosen)
    for sessions in (
        SessionFilter(module_id=held[1].module_id),
        SessionFilter(starts_from=START + timedelta(days=2), starts_before=START + timedelta(5)),
    ):
        assert bulk.attendance_summaries(cohort.id, sessions=sessions) == attendance_summary(
            cohort.id, sessions=sessions
        )


def test_no_session_held_and_no_enrolment(make: Any, db_session: Any) -> None:
    cohort = make.cohort()
    enrolment = make.enrolment(cohort=cohort)
    _session(make, cohort, 0, 60)

    summary = bulk.attendance_summaries(cohort.id)[enrolment.id]

    assert (summary.held, summary.attended, summary.hours) == (0, 0, Decimal("0.00"))
    assert bulk.attendance_summaries(cohort.id, []) == {}
    assert bulk.attendance_summaries(make.cohort().id) == {}


def test_eligibility_uses_one_grouped_count(make: Any, db_session: Any, count_queries: Any) -> None:
    cohort, _held, enrolments, _withdrawn = _mixed_cohort(make)
    db.session.expunge_all()

    with count_queries() as q:
        result = eligibility(cohort.id)

    assert set(result) == {e.id for e in enrolments}
    assert q.count <= 4  # cohort, its required modules, held sessions, the grouped count


# --------------------------------------------------------------------------- boundaries


def _rated(make: Any, min_pct: int, statuses: list[AttendanceStatus]) -> Any:
    cohort = make.cohort(min_attendance_pct=min_pct, min_hours=None)
    enrolment = make.enrolment(cohort=cohort)
    for day, status in enumerate(statuses):
        make.attendance(_session(make, cohort, day, 60), enrolment, status)
    return eligibility(cohort.id)[enrolment.id]


def test_rate_exactly_at_the_minimum_is_enough(make: Any, db_session: Any) -> None:
    assert _rated(make, 80, [P, P, P, L, A]).eligible  # 4 of 5: 80%
    assert _rated(make, 66, [P, L, A]).eligible  # 66.7% against 66%


def test_rate_just_below_the_minimum_is_not(make: Any, db_session: Any) -> None:
    result = _rated(make, 67, [P, L, A])  # 66.7% against 67%: rounded down, not up

    assert not result.eligible
    assert result.reasons == ["2 of 3 sessions, 66% is below 67%"]
    assert not _rated(make, 80, [P, P, P, A, A, E]).eligible  # 3 of 5 counted: 60%
    assert _rated(make, 80, [P, P, P, P, A, E, E]).eligible  # excused leave the count


def _hours(make: Any, min_hours: str, minutes: list[int], status: AttendanceStatus = P) -> Any:
    cohort = make.cohort(min_attendance_pct=0, min_hours=Decimal(min_hours))
    enrolment = make.enrolment(cohort=cohort)
    for day, length in enumerate(minutes):
        make.attendance(_session(make, cohort, day, length), enrolment, status)
    return eligibility(cohort.id)[enrolment.id]


def test_hours_exactly_at_the_minimum_are_enough(make: Any, db_session: Any) -> None:
    assert _hours(make, "2.5", [75, 75]).eligible  # 1.25 + 1.25
    assert _hours(make, "2.5", [75, 75], L).eligible  # late counts as attended
    assert _hours(make, "1.66", [50, 50]).eligible  # 0.83 + 0.83, each rounded first


def test_hours_just_below_the_minimum_are_not(make: Any, db_session: Any) -> None:
    result = _hours(make, "2.5", [75, 74])  # 1.25 + 1.23

    assert not result.eligible
    assert result.reasons == ["2.48 hours, below the minimum of 2.5"]
    assert not _hours(make, "1.67", [50, 50]).eligible
    assert not _hours(make, "2.5", [75, 75], E).eligible  # excused is not attended


def _modules(make: Any, status: AttendanceStatus, cancelled: bool = False) -> Any:
    programme = make.programme()
    required = make.module(programme, code="M9")
    cohort = make.cohort(programme, min_attendance_pct=0, min_hours=None)
    cohort.required_modules.append(required)
    enrolment = make.enrolment(cohort=cohort)
    other = _session(make, cohort, 0, 60)
    session = _session(make, cohort, 1, 60, required)
    make.attendance(other, enrolment, P)
    make.attendance(session, enrolment, status)
    if cancelled:
        session.status = SessionStatus.CANCELLED
    db.session.flush()
    return eligibility(cohort.id)[enrolment.id]


def test_a_required_module_attended_present_or_late_is_enough(make: Any, db_session: Any) -> None:
    assert _modules(make, P).eligible
    assert _modules(make, L).eligible


def test_a_required_module_excused_absent_or_cancelled_is_not(make: Any, db_session: Any) -> None:
    for status in (E, A):
        result = _modules(make, status)
        assert not result.eligible
        assert result.reasons == ["module M9 not attended"]
    assert _modules(make, P, cancelled=True).reasons == ["module M9 not attended"]
