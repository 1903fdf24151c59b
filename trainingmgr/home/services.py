"""What each role's home page shows. Every function runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from trainingmgr.attendance.models import AttendanceRecord, AttendanceStatus
from trainingmgr.cohorts.models import (
    ACTIVE_ENROLMENT,
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Session,
    SessionStatus,
    session_trainers,
)
from trainingmgr.cohorts.services import enrolment_counts
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.programmes.models import Programme, ProgrammeStatus


@dataclass(frozen=True)
class ProgrammeSummary:
    programme: Programme
    cohorts: int
    participants: int


@dataclass(frozen=True)
class CohortSummary:
    cohort: Cohort
    enrolled: int
    waitlisted: int
    sessions: int


def programme_summaries() -> list[ProgrammeSummary]:
    """Active programmes with their number of cohorts and of distinct participants."""
    cohort_count = (
        sa.select(sa.func.count(Cohort.id))
        .where(Cohort.programme_id == Programme.id)
        .scalar_subquery()
    )
    participant_count = (
        sa.select(sa.func.count(sa.distinct(Enrolment.person_id)))
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Cohort.programme_id == Programme.id, Enrolment.status.in_(ACTIVE_ENROLMENT))
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Programme, cohort_count, participant_count)
        .where(Programme.status == ProgrammeStatus.ACTIVE)
        .order_by(Programme.code)
    ).all()
    return [ProgrammeSummary(p, c or 0, n or 0) for p, c, n in rows]


def current_cohorts(today: datetime | None = None, limit: int = 12) -> list[CohortSummary]:
    """Cohorts that have not ended yet (and are not archived), soonest first."""
    today_date = (today or utcnow()).date()
    counts = enrolment_counts()
    session_count = (
        sa.select(sa.func.count(Session.id))
        .where(Session.cohort_id == Cohort.id, Session.status == SessionStatus.SCHEDULED)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Cohort, counts.c.enrolled, counts.c.waitlisted, session_count)
        .outerjoin(counts, counts.c.cohort_id == Cohort.id)
        .options(joinedload(Cohort.programme))
        .where(Cohort.end_date >= today_date - timedelta(days=7))
        .where(Cohort.status != CohortStatus.ARCHIVED)
        .order_by(Cohort.start_date, Cohort.name)
        .limit(limit)
    ).all()
    return [CohortSummary(c, e or 0, w or 0, s or 0) for c, e, w, s in rows]


def _sessions_query() -> sa.Select[tuple[Session]]:
    return (
        sa.select(Session)
        .where(Session.status == SessionStatus.SCHEDULED)
        .options(
            joinedload(Session.cohort).joinedload(Cohort.programme),
            joinedload(Session.module),
            selectinload(Session.trainers),
        )
    )


def upcoming_sessions(now: datetime | None = None, limit: int = 10) -> list[Session]:
    """The next sessions across all cohorts (including ones under way)."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            _sessions_query().where(Session.ends_at >= now).order_by(Session.starts_at).limit(limit)
        ).unique()
    )


def _is_today(session: Session, now: datetime) -> bool:
    """Whether ``session`` is on today's date in its cohort's time zone."""
    tz = session.cohort.tz
    return session.starts_at.astimezone(tz).date() == now.astimezone(tz).date()


def trainer_sessions(
    person_id: int, now: datetime | None = None, upcoming: bool = True, limit: int = 20
) -> list[Session]:
    """A trainer's "My sessions" lists, each in two queries at most.

    ``upcoming``: today's sessions (in each cohort's time zone, ended or not) and the next
    ones, soonest first. Otherwise: earlier sessions whose attendance is still missing for
    someone on the roster, most recent first.
    """
    now = now or utcnow()
    query = _sessions_query().where(
        Session.id.in_(
            sa.select(session_trainers.c.session_id).where(
                session_trainers.c.person_id == person_id
            )
        )
    )
    # Sessions that ended up to a day ago may still be "today" somewhere.
    recent = now - timedelta(hours=26)
    if upcoming:
        query = query.where(Session.ends_at >= recent).order_by(Session.starts_at)
    else:
        enrolled = (
            sa.select(sa.func.count(Enrolment.id))
            .where(Enrolment.cohort_id == Session.cohort_id)
            .where(Enrolment.status.in_(ACTIVE_ENROLMENT))
            .correlate(Session)
            .scalar_subquery()
        )
        recorded = (
            sa.select(sa.func.count(AttendanceRecord.id))
            .join(Enrolment, Enrolment.id == AttendanceRecord.enrolment_id)
            .where(AttendanceRecord.session_id == Session.id)
            .where(Enrolment.status.in_(ACTIVE_ENROLMENT))
            .correlate(Session)
            .scalar_subquery()
        )
        query = (
            query.where(Session.ends_at < now)
            .where(recorded < enrolled)
            .order_by(Session.starts_at.desc())
        )
    sessions = db.session.scalars(query.limit(limit + 20)).unique()
    if upcoming:
        return [s for s in sessions if s.ends_at >= now or _is_today(s, now)][:limit]
    return [s for s in sessions if not _is_today(s, now)][:limit]


@dataclass(frozen=True)
class ScheduleItem:
    session: Session
    status: AttendanceStatus | None


@dataclass(frozen=True)
class ParticipantCohort:
    enrolment: Enrolment
    schedule: list[ScheduleItem]


def participant_overview(person_id: int) -> list[ParticipantCohort]:
    """A participant's enrolments, each with its schedule and their attendance so far."""
    enrolments = list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.person_id == person_id)
            .where(Enrolment.status != EnrolmentStatus.WITHDRAWN)
            .options(joinedload(Enrolment.cohort).joinedload(Cohort.programme))
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .order_by(Cohort.start_date.desc())
        )
    )
    if not enrolments:
        return []
    cohort_ids = [e.cohort_id for e in enrolments]
    sessions = list(
        db.session.scalars(
            _sessions_query().where(Session.cohort_id.in_(cohort_ids)).order_by(Session.starts_at)
        ).unique()
    )
    statuses = dict(
        db.session.execute(
            sa.select(AttendanceRecord.session_id, AttendanceRecord.status).where(
                AttendanceRecord.enrolment_id.in_([e.id for e in enrolments])
            )
        ).all()
    )
    by_cohort: dict[int, list[ScheduleItem]] = {cid: [] for cid in cohort_ids}
    for s in sessions:
        by_cohort[s.cohort_id].append(ScheduleItem(s, statuses.get(s.id)))
    return [ParticipantCohort(e, by_cohort[e.cohort_id]) for e in enrolments]
