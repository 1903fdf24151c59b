"""What needs doing, for the coordinator's dashboard: sessions missing attendance, people
eligible for a certificate that is not issued, free seats with people waiting, e-mails that
failed and people with no e-mail address, each with a count and where to act.

Everything is limited to the coordinator's programmes (``programme_ids``; None: every
programme, for administrators) and runs a bounded number of queries whatever the data.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from trainingmgr.attendance.models import AttendanceRecord
from trainingmgr.certificates.eligibility import eligible_ids
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import (
    ACTIVE_ENROLMENT,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Session,
    people_waiting,
    seats_taken,
)
from trainingmgr.core.scope import in_programmes
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.mail.models import OutboxMessage, OutboxStatus
from trainingmgr.people.models import Person

SHOWN = 5  # items listed under each count
# Sessions missing attendance: those that ended in the last 30 days (older ones are counted
# on the cohort's matrix, not as something to do today).
MISSING_ATTENDANCE_DAYS = 30
# Certificates: the cohorts that ended most recently are checked (eligibility is a few
# queries per cohort), so the dashboard stays quick.
ENDED_COHORTS_CHECKED = 5
ENDED_COHORTS_LOOKED_AT = 20  # the cohorts that ended last, among which they are found


@dataclass(frozen=True)
class CohortCount:
    cohort: Cohort
    count: int


@dataclass(frozen=True)
class Todo:
    missing_attendance: int
    missing_sessions: list[Session]
    not_issued: list[CohortCount]  # eligible people without a certificate, per cohort
    seats_and_waitlist: list[CohortCount]  # free seats, per cohort with people waiting
    failed_mail: int
    without_email: list[CohortCount]  # people on the roster with no address, per cohort
    missing_days: int = MISSING_ATTENDANCE_DAYS  # how far back sessions are looked at
    items: int = field(init=False)

    def __post_init__(self) -> None:
        counts = (
            self.missing_attendance,
            sum(c.count for c in self.not_issued),
            len(self.seats_and_waitlist),
            self.failed_mail,
            sum(c.count for c in self.without_email),
        )
        object.__setattr__(self, "items", sum(1 for n in counts if n))


def _live_cohorts(programme_ids: Collection[int] | None) -> sa.Select[Any]:
    return sa.select(Cohort.id).where(
        Cohort.status != CohortStatus.ARCHIVED, in_programmes(Cohort.programme_id, programme_ids)
    )


def missing_attendance_clause() -> sa.ColumnElement[bool]:
    """A session (correlated) with fewer attendance records than active participants."""
    enrolled = (
        sa.select(sa.func.count(Enrolment.id))
        .where(Enrolment.cohort_id == Session.cohort_id)
        .where(Enrolment.active)
        .correlate(Session)
        .scalar_subquery()
    )
    recorded = (
        sa.select(sa.func.count(AttendanceRecord.id))
        .join(Enrolment, Enrolment.id == AttendanceRecord.enrolment_id)
        .where(AttendanceRecord.session_id == Session.id)
        .where(Enrolment.active)
        .correlate(Session)
        .scalar_subquery()
    )
    return recorded < enrolled


def _missing_attendance(
    programme_ids: Collection[int] | None, now: datetime
) -> tuple[int, list[Session]]:
    """Sessions of live cohorts that ended in the last ``MISSING_ATTENDANCE_DAYS`` with fewer
    attendance records than active participants: the records of those sessions only are
    counted, once each, and the participants once per cohort (not once per session)."""
    live = _live_cohorts(programme_ids)
    recent = (
        Session.scheduled,
        Session.ends_at < now,
        Session.ends_at >= now - timedelta(days=MISSING_ATTENDANCE_DAYS),
        Session.cohort_id.in_(live),
    )
    recent_cohorts = sa.select(Session.cohort_id).where(*recent)
    enrolled = (
        sa.select(Enrolment.cohort_id, sa.func.count().label("n"))
        .where(Enrolment.active, Enrolment.cohort_id.in_(recent_cohorts))
        .group_by(Enrolment.cohort_id)
        .subquery()
    )

    def records(*where: Any) -> sa.Subquery:
        return (
            sa.select(AttendanceRecord.session_id, sa.func.count().label("n"))
            .join(Session, Session.id == AttendanceRecord.session_id)
            .where(*recent, *where)
            .group_by(AttendanceRecord.session_id)
            .subquery()
        )

    # Records of active participants: all the session's records less those of people who
    # left (few, where joining every active enrolment would read them all).
    recorded = records()
    gone = records(
        AttendanceRecord.enrolment_id.in_(sa.select(Enrolment.id).where(~Enrolment.active))
    )
    active_records = sa.func.coalesce(recorded.c.n, 0) - sa.func.coalesce(gone.c.n, 0)
    missing = (
        sa.select(Session.id)
        .join(enrolled, enrolled.c.cohort_id == Session.cohort_id)
        .outerjoin(recorded, recorded.c.session_id == Session.id)
        .outerjoin(gone, gone.c.session_id == Session.id)
        .where(*recent, active_records < enrolled.c.n)
    )
    ids = db.session.scalars(missing).all()
    shown = db.session.scalars(
        sa.select(Session)
        .where(Session.id.in_(ids))
        .options(joinedload(Session.cohort))
        .order_by(Session.starts_at.desc())
        .limit(SHOWN)
    )
    return len(ids), list(shown)


def _not_issued(programme_ids: Collection[int] | None, today: date) -> list[CohortCount]:
    """Per cohort that has ended (the latest few): active participants who meet the
    completion rule and have no valid certificate."""
    has_certificate = (
        sa.select(Certificate.id)
        .where(
            Certificate.enrolment_id == Enrolment.id,
            Certificate.status == CertificateStatus.VALID,
        )
        .exists()
    )
    waiting_here = sa.and_(
        Enrolment.status.in_((EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)),
        ~has_certificate,
    )
    # Among the cohorts that ended last, those with someone not certified, then their
    # people only (older cohorts are not looked at: their certificates are not news).
    ended_last = (
        sa.select(Cohort.id)
        .where(Cohort.end_date < today, Cohort.id.in_(_live_cohorts(programme_ids)))
        .order_by(Cohort.end_date.desc(), Cohort.id.desc())
        .limit(ENDED_COHORTS_LOOKED_AT)
    )
    cohorts = db.session.scalars(
        sa.select(Cohort)
        .where(
            Cohort.id.in_(ended_last),
            sa.exists().where(Enrolment.cohort_id == Cohort.id, waiting_here),
        )
        .order_by(Cohort.end_date.desc(), Cohort.id.desc())
        .limit(ENDED_COHORTS_CHECKED)
    ).all()
    if not cohorts:
        return []
    rows = db.session.execute(
        sa.select(Enrolment.cohort_id, Enrolment.id).where(
            Enrolment.cohort_id.in_([c.id for c in cohorts]), waiting_here
        )
    ).all()
    waiting: dict[int, list[int]] = {}
    for cohort_id, enrolment_id in rows:
        waiting.setdefault(cohort_id, []).append(enrolment_id)
    # Every active enrolment is checked (joined in the query, kept a minute), then those
    # waiting are counted: a list of their ids (thousands) cost more to send than the check.
    eligible = eligible_ids([c.id for c in cohorts])
    result = []
    for cohort in cohorts:
        count = sum(1 for eid in waiting[cohort.id] if eid in eligible[cohort.id])
        if count:
            result.append(CohortCount(cohort, count))
    return result


def _seats_and_waitlist(programme_ids: Collection[int] | None) -> list[CohortCount]:
    active, waiting = seats_taken(), people_waiting()
    rows = db.session.execute(
        sa.select(Cohort, Cohort.capacity - active)
        .join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .where(
            Cohort.id.in_(_live_cohorts(programme_ids)),
            Cohort.capacity.is_not(None),
            Cohort.status != CohortStatus.CLOSED,
        )
        .group_by(Cohort.id)
        .having(waiting > 0, active < Cohort.capacity)
        .order_by(Cohort.start_date, Cohort.id)
    ).all()
    return [CohortCount(cohort, free) for cohort, free in rows]


def _failed_mail(programme_ids: Collection[int] | None) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.FAILED,
                in_programmes(OutboxMessage.programme_id, programme_ids),
            )
        )
        or 0
    )


def _without_email(programme_ids: Collection[int] | None, today: date) -> list[CohortCount]:
    """Per cohort not over yet: people on its roster (or waiting) with no e-mail address."""
    rows = db.session.execute(
        sa.select(Cohort, sa.func.count(sa.distinct(Person.id)))
        .join(Enrolment, Enrolment.cohort_id == Cohort.id)
        .join(Person, Person.id == Enrolment.person_id)
        .where(
            Cohort.id.in_(_live_cohorts(programme_ids)),
            Cohort.end_date >= today,
            Enrolment.status.in_((*ACTIVE_ENROLMENT, EnrolmentStatus.WAITLISTED)),
            Person.email.is_(None),
            Person.merged_into_id.is_(None),
        )
        .group_by(Cohort.id)
        .order_by(Cohort.start_date, Cohort.id)
    ).all()
    return [CohortCount(cohort, n) for cohort, n in rows]


def coordinator_todo(programme_ids: Collection[int] | None, now: datetime | None = None) -> Todo:
    """What needs doing in these programmes. At most 6 queries plus eligibility for the
    ``ENDED_COHORTS_CHECKED`` cohorts that ended last, whatever the number of cohorts,
    sessions and people."""
    now = now or utcnow()
    today = now.date()
    count, sessions = _missing_attendance(programme_ids, now)
    return Todo(
        missing_attendance=count,
        missing_sessions=sessions,
        not_issued=_not_issued(programme_ids, today),
        seats_and_waitlist=_seats_and_waitlist(programme_ids),
        failed_mail=_failed_mail(programme_ids),
        without_email=_without_email(programme_ids, today),
    )
