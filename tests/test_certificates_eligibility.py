"""Who completed a cohort: attendance rate, hours and required modules, reasons in words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.certificates.eligibility import eligibility
from trainingmgr.cohorts.models import EnrolmentStatus, SessionStatus
from trainingmgr.core.errors import NotFound
from trainingmgr.extensions import db

P, L, E, A = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)
START = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)


def sessions(make: Any, cohort: Any, n: int, hours: int = 1, module: Any = None) -> list[Any]:
    return [
        make.session(
            cohort=cohort,
            module=module,
            starts_at=START + timedelta(days=i),
            ends_at=START + timedelta(days=i, hours=hours),
        )
        for i in range(n)
    ]


def record(make: Any, held: list[Any], enrolment: Any, statuses: list[AttendanceStatus]) -> None:
    for session, status in zip(held, statuses, strict=False):
        make.attendance(session, enrolment, status)


def test_rate_below_minimum_is_explained_in_words(make: Any, db_session: Any) -> None:
    cohort = make.cohort(min_attendance_pct=80)
    held = sessions(make, cohort, 20)
    weak, strong = make.enrolment(cohort=cohort), make.enrolment(cohort=cohort)
    record(make, held, weak, [P] * 12 + [L] * 2 + [A] * 6)
    record(make, held, strong, [P] * 16 + [A] * 4)

    result = eligibility(cohort.id)

    assert not result[weak.id].eligible
    assert result[weak.id].reasons == ["14 of 20 sessions, 70% is below 80%"]
    assert result[weak.id].summary.attended == 14
    assert result[strong.id].eligible and result[strong.id].reasons == []


def test_excused_sessions_do_not_count_against_the_rate(make: Any, db_session: Any) -> None:
    cohort = make.cohort(min_attendance_pct=80)
    held = sessions(make, cohort, 5)
    enrolment = make.enrolment(cohort=cohort)
    record(make, held, enrolment, [P, P, P, P, E])

    assert eligibility(cohort.id)[enrolment.id].eligible


def test_hours_below_minimum(make: Any, db_session: Any) -> None:
    cohort = make.cohort(min_attendance_pct=0, min_hours=Decimal("20"))
    held = [
        make.session(cohort=cohort, starts_at=START, ends_at=START + timedelta(hours=12.5)),
        *sessions(make, cohort, 3, hours=4)[1:],
    ]
    short, enough = make.enrolment(cohort=cohort), make.enrolment(cohort=cohort)
    record(make, held, short, [P, A, A])
    record(make, held, enough, [P, P, L])

    result = eligibility(cohort.id)

    assert result[short.id].reasons == ["12.5 hours, below the minimum of 20"]
    assert result[enough.id].eligible


def test_required_module_must_be_attended_at_least_once(make: Any, db_session: Any) -> None:
    programme = make.programme()
    m3, m4 = make.module(programme, code="M3"), make.module(programme, code="M4")
    cohort = make.cohort(programme, min_attendance_pct=50)
    cohort.required_modules.extend([m3, m4])
    s3, s4 = sessions(make, cohort, 1, module=m3)[0], sessions(make, cohort, 2, module=m4)[1]
    cancelled = make.session(
        cohort=cohort,
        module=m4,
        starts_at=START + timedelta(days=5),
        status=SessionStatus.SCHEDULED,
    )
    missed, late, done = (make.enrolment(cohort=cohort) for _ in range(3))
    record(make, [s3, s4], missed, [P, A])
    record(make, [s3, s4], late, [P, L])
    record(make, [s3, s4], done, [P, P])
    make.attendance(cancelled, missed, P)
    cancelled.status = SessionStatus.CANCELLED
    db.session.flush()

    result = eligibility(cohort.id)

    assert result[missed.id].reasons == ["module M4 not attended"]
    assert result[late.id].eligible and result[done.id].eligible


def test_several_reasons_and_nothing_recorded(make: Any, db_session: Any) -> None:
    programme = make.programme()
    m4 = make.module(programme, code="M4")
    cohort = make.cohort(programme, min_attendance_pct=80, min_hours=Decimal("6"))
    cohort.required_modules.append(m4)
    enrolment = make.enrolment(cohort=cohort)
    db.session.flush()

    reasons = eligibility(cohort.id)[enrolment.id].reasons

    assert reasons == [
        "no session attended yet (minimum 80%)",
        "0 hours, below the minimum of 6",
        "module M4 not attended",
    ]


def test_only_active_enrolments_by_default_and_chosen_ones_on_request(
    make: Any, db_session: Any
) -> None:
    cohort = make.cohort(min_attendance_pct=None)
    active = make.enrolment(cohort=cohort)
    withdrawn = make.enrolment(cohort=cohort, status=EnrolmentStatus.WITHDRAWN)

    assert set(eligibility(cohort.id)) == {active.id}
    assert set(eligibility(cohort.id, [withdrawn.id])) == {withdrawn.id}


def test_unknown_cohort(db_session: Any) -> None:
    with pytest.raises(NotFound):
        eligibility(987654)


def _queries(make: Any, count_queries: Any, n: int) -> int:
    programme = make.programme()
    cohort = make.cohort(programme, min_attendance_pct=80, min_hours=Decimal("2"))
    cohort.required_modules.append(make.module(programme))
    held = sessions(make, cohort, 3, module=cohort.required_modules[0])
    for i in range(n):
        record(make, held, make.enrolment(cohort=cohort), [P, L, A][: 1 + i % 3])
    db.session.expunge_all()
    with count_queries() as q:
        result = eligibility(cohort.id)
    assert len(result) == n
    return q.count


def test_bounded_queries(make: Any, db_session: Any, count_queries: Any) -> None:
    small = _queries(make, count_queries, 3)
    assert _queries(make, count_queries, 120) == small
    assert small <= 6
