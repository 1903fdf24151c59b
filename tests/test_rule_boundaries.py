"""Every rule boundary on both sides: a rule written with the wrong comparison (``>`` for
``>=``, ``<`` for ``<=``) fails here. Attendance rate, hours, late grace, capacity and the
expiry of one-time links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from trainingmgr.accounts import tokens
from trainingmgr.accounts.models import Role, TokenPurpose
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.attendance.self_checkin import checkin_status
from trainingmgr.certificates.eligibility import eligibility
from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.core.errors import DomainError
from trainingmgr.enrolments import services as enrolments

P, A = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT
START = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)


def _sessions(make: Any, cohort: Any, hours: list[float]) -> list[Any]:
    return [
        make.session(
            cohort=cohort,
            starts_at=START + timedelta(days=i),
            ends_at=START + timedelta(days=i, hours=h),
        )
        for i, h in enumerate(hours)
    ]


def _attend(make: Any, held: list[Any], enrolment: Any, statuses: list[Any]) -> None:
    for session, status in zip(held, statuses, strict=True):
        make.attendance(session, enrolment, status)


# --------------------------------------------------------------------------- attendance rate


@pytest.mark.parametrize(("minimum", "eligible"), [(75, True), (76, False)])
def test_an_attendance_rate_equal_to_the_minimum_completes(
    make: Any, db_session: Any, minimum: int, eligible: bool
) -> None:
    cohort = make.cohort(min_attendance_pct=minimum, min_hours=None)
    held = _sessions(make, cohort, [1, 1, 1, 1])
    enrolment = make.enrolment(cohort=cohort)
    _attend(make, held, enrolment, [P, P, P, A])  # 3 of 4: exactly 75%

    result = eligibility(cohort.id)[enrolment.id]

    assert result.eligible is eligible
    assert result.reasons == ([] if eligible else ["3 of 4 sessions, 75% is below 76%"])


# --------------------------------------------------------------------------- hours


@pytest.mark.parametrize(
    ("attended", "eligible"), [([P, P, P], True), ([P, P, A], False)], ids=["20h", "16h"]
)
def test_hours_equal_to_the_minimum_complete(
    make: Any, db_session: Any, attended: list[Any], eligible: bool
) -> None:
    cohort = make.cohort(min_attendance_pct=0, min_hours=Decimal("20"))
    held = _sessions(make, cohort, [12, 4, 4])
    enrolment = make.enrolment(cohort=cohort)
    _attend(make, held, enrolment, attended)

    result = eligibility(cohort.id)[enrolment.id]

    assert result.eligible is eligible
    if not eligible:
        assert result.reasons == ["16 hours, below the minimum of 20"]


def test_a_quarter_hour_short_of_the_minimum_does_not_complete(make: Any, db_session: Any) -> None:
    cohort = make.cohort(min_attendance_pct=0, min_hours=Decimal("20"))
    held = _sessions(make, cohort, [12, 4, 3.75])
    enrolment = make.enrolment(cohort=cohort)
    _attend(make, held, enrolment, [P, P, P])

    assert eligibility(cohort.id)[enrolment.id].reasons == ["19.75 hours, below the minimum of 20"]


# --------------------------------------------------------------------------- late grace


@pytest.mark.parametrize(
    ("after_start", "status"),
    [
        (timedelta(minutes=15), AttendanceStatus.PRESENT),
        (timedelta(minutes=15, seconds=1), AttendanceStatus.LATE),
        (timedelta(0), AttendanceStatus.PRESENT),
    ],
    ids=["at-the-end-of-grace", "a-second-after", "on-time"],
)
def test_checking_in_at_the_end_of_the_grace_minutes_is_on_time(
    make: Any, db_session: Any, after_start: timedelta, status: AttendanceStatus
) -> None:
    cohort = make.cohort(late_grace_minutes=15)
    (session,) = _sessions(make, cohort, [2])

    assert checkin_status(session, session.starts_at + after_start) == status


def test_with_no_grace_a_second_after_the_start_is_late(make: Any, db_session: Any) -> None:
    cohort = make.cohort(late_grace_minutes=0)
    (session,) = _sessions(make, cohort, [2])

    assert checkin_status(session, session.starts_at) == AttendanceStatus.PRESENT
    assert checkin_status(session, session.starts_at + timedelta(seconds=1)) == (
        AttendanceStatus.LATE
    )


# --------------------------------------------------------------------------- capacity


def test_the_last_seat_is_taken_and_the_next_person_waits(make: Any, db_session: Any) -> None:
    cohort = make.cohort(capacity=2)
    admin = make.user(Role.ADMIN)
    first, second, third = make.person(), make.person(), make.person()

    assert enrolments.enrol(cohort.id, first.id, actor=admin).status == EnrolmentStatus.ENROLLED
    # One seat left (capacity - 1 taken): the second person gets it.
    assert enrolments.enrol(cohort.id, second.id, actor=admin).status == EnrolmentStatus.ENROLLED
    # Every seat taken (capacity reached): the third waits.
    waiting = enrolments.enrol(cohort.id, third.id, actor=admin)
    assert waiting.status == EnrolmentStatus.WAITLISTED


# --------------------------------------------------------------------------- link expiry


def _link(make: Any) -> tuple[str, datetime]:
    user = make.user(Role.PARTICIPANT)
    token = tokens.make_token(user, TokenPurpose.PASSWORD_RESET, timedelta(minutes=30))
    row = tokens.peek(token, TokenPurpose.PASSWORD_RESET)
    return token, row.expires_at


def test_a_link_works_until_the_instant_before_it_expires(
    make: Any, db_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, expires_at = _link(make)
    monkeypatch.setattr(tokens, "utcnow", lambda: expires_at - timedelta(microseconds=1))

    assert tokens.peek(token, TokenPurpose.PASSWORD_RESET).expires_at == expires_at


def test_a_link_is_refused_at_the_instant_it_expires(
    make: Any, db_session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, expires_at = _link(make)
    monkeypatch.setattr(tokens, "utcnow", lambda: expires_at)

    with pytest.raises(DomainError, match="This link has expired"):
        tokens.peek(token, TokenPurpose.PASSWORD_RESET)
