"""What each role's home page shows. Every function runs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import joinedload, selectinload

from trainingmgr.attendance.models import ATTENDED, AttendanceRecord, AttendanceStatus
from trainingmgr.attendance.summary import Summary, session_hours, summarise
from trainingmgr.certificates.eligibility import fmt_hours
from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts.listing import CohortRow
from trainingmgr.cohorts.models import (
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Session,
    people_waiting,
    seats_taken,
    session_trainers,
)
from trainingmgr.core.scope import in_programmes, scope_cohort_ids
from trainingmgr.core.timefmt import is_valid_timezone
from trainingmgr.core.types import utcnow
from trainingmgr.evaluations.completion import required_survey_answered, survey_required_clause
from trainingmgr.extensions import db
from trainingmgr.home.todo import missing_attendance_clause
from trainingmgr.programmes.models import Programme, ProgrammeStatus
from trainingmgr.programmes.services import participant_counts


@dataclass(frozen=True)
class ProgrammeSummary:
    programme: Programme
    cohorts: int
    participants: int


def programme_summaries(programme_ids: Collection[int] | None = None) -> list[ProgrammeSummary]:
    """Active programmes (only ``programme_ids`` unless None) with their number of cohorts
    and of distinct participants (two queries)."""
    cohort_count = (
        sa.select(sa.func.count(Cohort.id))
        .where(Cohort.programme_id == Programme.id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Programme, cohort_count)
        .where(Programme.status == ProgrammeStatus.ACTIVE)
        .where(in_programmes(Programme.id, programme_ids))
        .order_by(Programme.code)
    ).all()
    participants = participant_counts([p.id for p, _c in rows])
    return [ProgrammeSummary(p, c or 0, participants.get(p.id, 0)) for p, c in rows]


def current_cohorts(
    today: datetime | None = None,
    limit: int = 12,
    programme_ids: Collection[int] | None = None,
) -> list[CohortRow]:
    """Cohorts (of ``programme_ids`` unless None) that have not ended yet (and are not
    archived), soonest first."""
    today_date = (today or utcnow()).date()
    session_count = (
        sa.select(sa.func.count(Session.id))
        .where(Session.cohort_id == Cohort.id, Session.scheduled)
        .scalar_subquery()
    )
    # Enrolments are counted for the cohorts listed only (correlated to the outer rows that
    # the LIMIT keeps), not grouped for every cohort there is.
    enrolled, waitlisted = (
        sa.select(count).where(Enrolment.cohort_id == Cohort.id).scalar_subquery()
        for count in (seats_taken(), people_waiting())
    )
    rows = db.session.execute(
        sa.select(Cohort, enrolled, waitlisted, session_count)
        .options(joinedload(Cohort.programme))
        .where(Cohort.end_date >= today_date - timedelta(days=7))
        .where(Cohort.status != CohortStatus.ARCHIVED)
        .where(in_programmes(Cohort.programme_id, programme_ids))
        .order_by(Cohort.start_date, Cohort.name)
        .limit(limit)
    ).all()
    return [CohortRow(c, e or 0, w or 0, s or 0) for c, e, w, s in rows]


def _sessions_query() -> sa.Select[tuple[Session]]:
    return (
        sa.select(Session)
        .where(Session.scheduled)
        .options(
            joinedload(Session.cohort).joinedload(Cohort.programme),
            joinedload(Session.module),
            selectinload(Session.trainers),
        )
    )


def upcoming_sessions(
    now: datetime | None = None, limit: int = 10, programme_ids: Collection[int] | None = None
) -> list[Session]:
    """The next sessions across all cohorts (of ``programme_ids`` unless None), including
    ones under way."""
    now = now or utcnow()
    query = _sessions_query().where(Session.ends_at >= now)
    if programme_ids is not None:
        query = query.where(Session.cohort_id.in_(scope_cohort_ids(programme_ids)))
    return list(db.session.scalars(query.order_by(Session.starts_at).limit(limit)).unique())


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
        query = (
            query.where(Session.ends_at < now)
            .where(missing_attendance_clause())
            .order_by(Session.starts_at.desc())
        )
    sessions = db.session.scalars(query.limit(limit + 20)).unique()
    if upcoming:
        return [s for s in sessions if s.ends_at >= now or _is_today(s, now)][:limit]
    return [s for s in sessions if not _is_today(s, now)][:limit]


def split_today(
    sessions: list[Session], now: datetime | None = None
) -> tuple[list[Session], list[Session]]:
    """``sessions`` on today's date (in each cohort's zone), and the others."""
    now = now or utcnow()
    today = [s for s in sessions if _is_today(s, now)]
    return today, [s for s in sessions if not _is_today(s, now)]


# --------------------------------------------------------------------------- participant


@dataclass(frozen=True)
class ScheduleItem:
    session: Session
    status: AttendanceStatus | None  # the participant's attendance (None: not recorded)

    @property
    def cancelled(self) -> bool:
        return not self.session.scheduled


@dataclass(frozen=True)
class Requirement:
    """One part of a cohort's completion rule, in words, and whether it is met so far."""

    text: str
    met: bool


@dataclass(frozen=True)
class Progress:
    summary: Summary
    requirements: list[Requirement]

    @property
    def met(self) -> bool:
        return all(r.met for r in self.requirements)


@dataclass(frozen=True)
class ParticipantCohort:
    enrolment: Enrolment
    timezone: str  # the zone the schedule is shown in
    own_zone: bool  # True: the participant's chosen zone; False: the cohort's
    upcoming: list[ScheduleItem]  # not ended yet (under way included), soonest first
    past: list[ScheduleItem]  # ended, in date order
    progress: Progress | None  # None while not on the roster (applied, waitlisted)
    certificates: list[Certificate]

    @property
    def cohort(self) -> Cohort:
        return self.enrolment.cohort

    @property
    def on_roster(self) -> bool:
        return self.enrolment.active


@dataclass(frozen=True)
class ParticipantOverview:
    cohorts: list[ParticipantCohort]
    # Certificates of enrolments not listed above (a cohort the participant later left).
    other_certificates: list[Certificate]

    @property
    def next_session(self) -> tuple[ParticipantCohort, ScheduleItem] | None:
        """The participant's next session (not cancelled) across the cohorts they are on."""
        candidates = [
            (cohort, item)
            for cohort in self.cohorts
            if cohort.on_roster
            for item in cohort.upcoming
            if not item.cancelled
        ]
        return min(candidates, key=lambda pair: pair[1].session.starts_at, default=None)


def _requirements(
    cohort: Cohort, summary: Summary, modules_attended: set[int], survey: bool | None = None
) -> list[Requirement]:
    """The cohort's completion rule against the participant's attendance, in the participant's
    words. Met exactly when ``certificates.eligibility`` finds no reason."""
    items = [_attendance_requirement(cohort.min_attendance_pct, summary)]
    if cohort.min_hours is not None:
        items.append(
            Requirement(
                _(
                    "You have attended %(hours)s hours; %(min)s are needed.",
                    hours=fmt_hours(summary.hours),
                    min=fmt_hours(cohort.min_hours),
                ),
                summary.hours >= cohort.min_hours,
            )
        )
    for module in sorted(cohort.required_modules, key=lambda m: (m.position, m.code)):
        done = module.id in modules_attended
        name = f"{module.code} {module.title}".strip()
        items.append(
            Requirement(
                _("Module %(name)s is required: you have attended it.", name=name)
                if done
                else _("Module %(name)s is required: you have not attended it yet.", name=name),
                done,
            )
        )
    if survey is not None:  # the cohort requires its end-of-course survey to be answered
        items.append(
            Requirement(
                _("The end-of-course survey must be answered: you have answered it.")
                if survey
                else _("The end-of-course survey must be answered: you have not answered it yet."),
                survey,
            )
        )
    return items


def _attendance_requirement(pct: int | None, summary: Summary) -> Requirement:
    """The sessions attended against the minimum rate ``pct`` (always met without one)."""
    if summary.counted > 0:
        attended = _(
            "You have attended %(attended)s of %(counted)s sessions (%(pct)s%%)",
            attended=summary.attended,
            counted=summary.counted,
            pct=summary.rate_pct,
        )
    else:
        attended = _("No attendance has been recorded for you yet")
    if summary.excused:
        attended += " " + ngettext(
            "(%(num)d excused session not counted)",
            "(%(num)d excused sessions not counted)",
            summary.excused,
        )
    if pct:
        return Requirement(
            _("%(attended)s; %(min)s%% is needed.", attended=attended, min=pct),
            summary.counted > 0 and not summary.below(pct),
        )
    return Requirement(attended + ".", True)


def _zone(preferred: str | None, cohort: Cohort) -> tuple[str, bool]:
    if preferred and is_valid_timezone(preferred):
        return preferred, True
    return cohort.timezone, False


def _cohort_order(cohort: Cohort, now: datetime) -> tuple[int, int]:
    """Running now first, then the next to start (soonest first), then those over (the
    latest first): today in the cohort's own time zone."""
    today = now.astimezone(ZoneInfo(cohort.timezone)).date()
    if cohort.start_date <= today <= cohort.end_date:
        return (0, -cohort.start_date.toordinal())
    if cohort.start_date > today:
        return (1, cohort.start_date.toordinal())
    return (2, -cohort.end_date.toordinal())


def participant_overview(
    person_id: int, *, timezone: str | None = None, now: datetime | None = None
) -> ParticipantOverview:
    """A participant's cohorts (withdrawn ones left out; the one running now first), each
    with its schedule split into upcoming and past sessions, their attendance, their progress
    against the completion rule and their certificates. ``timezone``: the participant's own
    zone (default: each cohort's).

    Seven queries whatever the number of cohorts and sessions (eight when a cohort requires
    its survey to be answered).
    """
    now = now or utcnow()
    enrolments, surveys = _enrolments_shown(person_id, now)
    certificates = _certificates(person_id)
    by_enrolment: dict[int, list[Certificate]] = {}
    for certificate in certificates:
        by_enrolment.setdefault(certificate.enrolment_id, []).append(certificate)
    shown = {e.id for e in enrolments}
    other = [c for c in certificates if c.enrolment_id not in shown]
    if not enrolments:
        return ParticipantOverview([], other)

    by_cohort, held_ids, records = _schedules(enrolments)
    result = []
    for enrolment in enrolments:
        cohort = enrolment.cohort
        own = records[enrolment.id]
        items = [ScheduleItem(s, own.get(s.id)) for s in by_cohort[cohort.id]]
        progress = None
        if enrolment.active:
            progress = _progress(
                enrolment, by_cohort[cohort.id], held_ids, own, surveys.get(enrolment.id)
            )
        zone, own_zone = _zone(timezone, cohort)
        result.append(
            ParticipantCohort(
                enrolment=enrolment,
                timezone=zone,
                own_zone=own_zone,
                upcoming=[i for i in items if i.session.ends_at >= now],
                past=[i for i in items if i.session.ends_at < now],
                progress=progress,
                certificates=by_enrolment.get(enrolment.id, []),
            )
        )
    return ParticipantOverview(result, other)


def _enrolments_shown(person_id: int, now: datetime) -> tuple[list[Enrolment], dict[int, bool]]:
    """The person's enrolments but withdrawn ones (the cohort running now first), and for
    those whose cohort requires its survey, whether it is answered (a query only then)."""
    rows = list(
        db.session.execute(
            sa.select(Enrolment, survey_required_clause(Cohort.id))
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(Enrolment.person_id == person_id)
            .where(Enrolment.status != EnrolmentStatus.WITHDRAWN)
            .options(
                joinedload(Enrolment.cohort).joinedload(Cohort.programme),
                joinedload(Enrolment.cohort).selectinload(Cohort.required_modules),
            )
            .order_by(Cohort.start_date.desc(), Cohort.id.desc())
        ).unique()
    )
    rows.sort(key=lambda row: _cohort_order(row[0].cohort, now))
    requiring = [e.id for e, required in rows if required and e.active]
    surveys = required_survey_answered(requiring) if requiring else {}
    return [row[0] for row in rows], surveys


def _certificates(person_id: int) -> list[Certificate]:
    """The person's certificates, the latest first, with their cohorts and programmes."""
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.person_id == person_id)
            .options(
                joinedload(Certificate.enrolment)
                .joinedload(Enrolment.cohort)
                .joinedload(Cohort.programme)
            )
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        ).unique()
    )


def _schedules(
    enrolments: list[Enrolment],
) -> tuple[dict[int, list[Session]], set[int], dict[int, dict[int, AttendanceStatus]]]:
    """The sessions of the enrolments' cohorts (by cohort), the ids of those held (scheduled
    with attendance taken), and each enrolment's attendance (by session): three queries."""
    cohort_ids = [e.cohort_id for e in enrolments]
    sessions = list(
        db.session.scalars(
            sa.select(Session)
            .where(Session.cohort_id.in_(cohort_ids))
            .options(joinedload(Session.module), selectinload(Session.trainers))
            .order_by(Session.starts_at, Session.id)
        ).unique()
    )
    held_ids = set(
        db.session.scalars(
            sa.select(Session.id).where(
                Session.cohort_id.in_(cohort_ids),
                Session.scheduled,
                sa.select(AttendanceRecord.id)
                .where(AttendanceRecord.session_id == Session.id)
                .exists(),
            )
        )
    )
    records: dict[int, dict[int, AttendanceStatus]] = {e.id: {} for e in enrolments}
    for enrolment_id, session_id, status in db.session.execute(
        sa.select(
            AttendanceRecord.enrolment_id, AttendanceRecord.session_id, AttendanceRecord.status
        ).where(AttendanceRecord.enrolment_id.in_(list(records)))
    ):
        records[enrolment_id][session_id] = status
    by_cohort: dict[int, list[Session]] = {cid: [] for cid in cohort_ids}
    for s in sessions:
        by_cohort[s.cohort_id].append(s)
    return by_cohort, held_ids, records


def _progress(
    enrolment: Enrolment,
    sessions: list[Session],
    held_ids: set[int],
    own: dict[int, AttendanceStatus],
    survey: bool | None,
) -> Progress:
    """An active enrolment's attendance against its cohort's completion rule."""
    held = {s.id: session_hours(s.starts_at, s.ends_at) for s in sessions if s.id in held_ids}
    modules = {
        s.module_id
        for s in sessions
        if s.module_id is not None and s.id in held and own.get(s.id) in ATTENDED
    }
    summary = summarise(held, [enrolment.id], ((enrolment.id, sid, st) for sid, st in own.items()))[
        enrolment.id
    ]
    return Progress(summary, _requirements(enrolment.cohort, summary, modules, survey))
