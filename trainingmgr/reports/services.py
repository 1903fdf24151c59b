"""The programme dashboard: every figure of a selection of cohorts, in a bounded number of
queries whatever the number of enrolments.

The selection is the cohorts of the programmes in the viewer's scope, narrowed by programme,
cohort, funder and period (a cohort is in a period when its start date is). The figures
(defined in docs/reports.md, and on the dashboard) follow the one attendance computation of
``attendance.summary`` (``Summary``): a session is *held* once any attendance is recorded
for it and is not cancelled; an enrolment's sessions counted are those held less those it was
excused from; attended means present or late.

The database does the heavy work: one grouped query gives, for each enrolment on the
rosters, its sessions attended and excused, the hours attended and whether it holds a valid
certificate; the breakdowns are roll-ups of those rows (people are counted once per group
through their ids).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from trainingmgr.attendance.models import ATTENDED, AttendanceRecord, AttendanceStatus
from trainingmgr.attendance.summary import session_hours
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import (
    ACTIVE_ENROLMENT,
    Cohort,
    DeliveryMode,
    Enrolment,
    EnrolmentStatus,
    Session,
    SessionStatus,
)
from trainingmgr.core.labels import label_for
from trainingmgr.core.timefmt import fmt_short_day
from trainingmgr.extensions import db
from trainingmgr.people.models import Person, Sex
from trainingmgr.programmes.models import (
    PartnerRole,
    Programme,
    ProgrammeKind,
    ProgrammePartner,
)

# The attendance-by-session chart is drawn when the selection has at most this many sessions
# held (one cohort, or a few short ones); otherwise the page asks to choose a cohort.
SESSION_CHART_MAX = 40

# --------------------------------------------------------------------------- selection


@dataclass(frozen=True)
class Filters:
    """What the dashboard and the donor report show (empty: everything in scope)."""

    programme_id: int | None = None
    cohort_id: int | None = None
    funder: str = ""
    start: date | None = None  # cohorts starting on or after this day
    end: date | None = None  # cohorts starting on or before this day

    def query_args(self) -> dict[str, Any]:
        """The filters as query-string arguments (links to the exports, the cascade...)."""
        args: dict[str, Any] = {
            "programme": self.programme_id,
            "cohort": self.cohort_id,
            "funder": self.funder,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }
        return {k: v for k, v in args.items() if v}


def _selection(filters: Filters, programme_ids: Collection[int] | None) -> list[sa.ColumnElement]:
    conditions: list[sa.ColumnElement] = []
    if programme_ids is not None:
        conditions.append(Cohort.programme_id.in_(sorted(programme_ids)))
    if filters.programme_id is not None:
        conditions.append(Cohort.programme_id == filters.programme_id)
    if filters.cohort_id is not None:
        conditions.append(Cohort.id == filters.cohort_id)
    if filters.funder:
        conditions.append(
            Cohort.programme_id.in_(
                sa.select(ProgrammePartner.programme_id).where(
                    ProgrammePartner.role == PartnerRole.FUNDER,
                    ProgrammePartner.name == filters.funder,
                )
            )
        )
    if filters.start is not None:
        conditions.append(Cohort.start_date >= filters.start)
    if filters.end is not None:
        conditions.append(Cohort.start_date <= filters.end)
    return conditions


def programme_choices(programme_ids: Collection[int] | None) -> list[Programme]:
    """The programmes a viewer may report on (one query)."""
    stmt = sa.select(Programme).order_by(Programme.code)
    if programme_ids is not None:
        stmt = stmt.where(Programme.id.in_(sorted(programme_ids)))
    return list(db.session.scalars(stmt))


def funder_choices(programme_ids: Collection[int] | None) -> list[str]:
    """The funders named by the programmes a viewer may report on (one query)."""
    stmt = (
        sa.select(ProgrammePartner.name)
        .where(ProgrammePartner.role == PartnerRole.FUNDER)
        .distinct()
        .order_by(ProgrammePartner.name)
    )
    if programme_ids is not None:
        stmt = stmt.where(ProgrammePartner.programme_id.in_(sorted(programme_ids)))
    return list(db.session.scalars(stmt))


def cohort_choices(
    programme_ids: Collection[int] | None, programme_id: int | None = None
) -> list[tuple[int, str]]:
    """(id, "CODE · name") of the cohorts a viewer may report on (one query)."""
    stmt = (
        sa.select(Cohort.id, Programme.code, Cohort.name)
        .join(Programme, Programme.id == Cohort.programme_id)
        .order_by(Programme.code, Cohort.start_date.desc(), Cohort.name)
    )
    if programme_ids is not None:
        stmt = stmt.where(Cohort.programme_id.in_(sorted(programme_ids)))
    if programme_id is not None:
        stmt = stmt.where(Cohort.programme_id == programme_id)
    return [(cid, f"{code} · {name}") for cid, code, name in db.session.execute(stmt)]


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True)
class CohortInfo:
    id: int
    name: str
    programme_id: int
    programme_code: str
    programme_kind: ProgrammeKind
    start_date: date
    end_date: date
    timezone: str
    mode: DeliveryMode
    min_attendance_pct: int | None
    held: int = 0  # sessions held
    hours_delivered: Decimal = Decimal("0.00")

    @property
    def label(self) -> str:
        return f"{self.programme_code} · {self.name}"


@dataclass(frozen=True, slots=True)
class EnrolmentRow:
    """One enrolment on a roster, with its attendance (``attendance.summary.Summary``):
    the raw rows of the donor report."""

    enrolment_id: int
    cohort_id: int
    person_id: int
    status: EnrolmentStatus
    country: str | None
    sex: Sex | None
    organisation: str | None
    held: int
    attended: int
    excused: int
    centi_hours: int  # hours attended, in hundredths
    certified: bool
    attended_enough: bool

    @property
    def counted(self) -> int:
        return self.held - self.excused

    @property
    def hours(self) -> Decimal:
        return Decimal(self.centi_hours) / 100


def _pct(numerator: int, denominator: int) -> Decimal | None:
    """A percentage with one decimal, rounded down (79.96% shows as 79.9%, never 80%)."""
    if denominator <= 0:
        return None
    return (Decimal(numerator * 100) / Decimal(denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_DOWN
    )


@dataclass
class Figures:
    """The figures of a group of enrolments (see docs/reports.md for each definition)."""

    enrolments: int = 0
    participants: int = 0  # unique people
    people_trained: int = 0  # unique people who attended at least one session
    attended: int = 0
    counted: int = 0
    attended_enough: int = 0
    completed: int = 0
    not_completed: int = 0
    certified: int = 0
    centi_hours: int = 0
    # Hours of the sessions held: for groups of cohorts (all, cohort, year, delivery mode).
    hours_delivered: Decimal | None = None

    @property
    def attendance_rate(self) -> Decimal | None:
        return _pct(self.attended, self.counted)

    @property
    def completion_rate(self) -> Decimal | None:
        return _pct(self.completed, self.completed + self.not_completed)

    @property
    def person_hours(self) -> Decimal:
        return Decimal(self.centi_hours) / 100


@dataclass
class Group:
    key: Any
    label: str
    figures: Figures


@dataclass
class Breakdown:
    key: str
    title: str
    groups: list[Group]
    per_cohort: bool  # the groups are groups of cohorts (hours delivered make sense)


@dataclass
class SessionTurnout:
    session_id: int
    cohort_id: int
    label: str
    starts_at: datetime
    attended: int
    enrolled: int

    @property
    def turnout_pct(self) -> int | None:
        """As the attendance matrix: attended * 100 // people on the roster, rounded down."""
        return self.attended * 100 // self.enrolled if self.enrolled else None


@dataclass
class Dashboard:
    filters: Filters
    cohorts: list[CohortInfo]
    totals: Figures
    breakdowns: list[Breakdown]
    sessions: list[SessionTurnout] | None  # None: too many sessions held to chart
    sessions_held: int
    programmes: list[Programme]
    funders: list[str]

    def breakdown(self, key: str) -> Breakdown:
        return next(b for b in self.breakdowns if b.key == key)

    @property
    def held(self) -> dict[int, int]:
        """Sessions held per cohort."""
        return {c.id: c.held for c in self.cohorts}

    @property
    def cohort_ids(self) -> list[int]:
        return [c.id for c in self.cohorts]


# --------------------------------------------------------------------------- SQL


def _centi_hours(session: Any) -> sa.ColumnElement[Any]:
    """A session's length in hundredths of an hour, rounded as ``session_hours`` rounds
    (identical for sessions of whole minutes, which cannot fall on a tie)."""
    if db.session.get_bind().dialect.name == "postgresql":
        seconds = sa.extract("epoch", session.ends_at - session.starts_at)
    else:
        seconds = sa.func.round(
            (sa.func.julianday(session.ends_at) - sa.func.julianday(session.starts_at)) * 86400
        )
    return sa.func.round(seconds / 36.0)


def _cohorts(filters: Filters, programme_ids: Collection[int] | None) -> list[CohortInfo]:
    rows = db.session.execute(
        sa.select(
            Cohort.id,
            Cohort.name,
            Cohort.programme_id,
            Programme.code,
            Programme.kind,
            Cohort.start_date,
            Cohort.end_date,
            Cohort.timezone,
            Cohort.delivery_mode,
            Cohort.min_attendance_pct,
        )
        .join(Programme, Programme.id == Cohort.programme_id)
        .where(*_selection(filters, programme_ids))
        .order_by(Cohort.start_date, Programme.code, Cohort.name)
    )
    return [CohortInfo(*row) for row in rows]


def _held_sessions(cohort_ids: list[int]) -> list[tuple[int, int, datetime, datetime, str]]:
    """(id, cohort id, start, end, title) of the sessions held in these cohorts."""
    from trainingmgr.programmes.models import Module

    if not cohort_ids:
        return []
    recorded = sa.select(AttendanceRecord.id).where(AttendanceRecord.session_id == Session.id)
    rows = db.session.execute(
        sa.select(
            Session.id,
            Session.cohort_id,
            Session.starts_at,
            Session.ends_at,
            sa.func.coalesce(sa.func.nullif(Session.title, ""), Module.title, ""),
        )
        .outerjoin(Module, Module.id == Session.module_id)
        .where(
            Session.cohort_id.in_(cohort_ids),
            Session.status == SessionStatus.SCHEDULED,
            recorded.exists(),
        )
        .order_by(Session.starts_at, Session.id)
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _enrolment_stats(cohorts: dict[int, CohortInfo]) -> Any:
    """A select of every enrolment on the rosters of ``cohorts`` with its attendance: the
    sessions attended and excused, counted, hours attended (hundredths), whether it attended
    enough and holds a valid certificate. The grouping over attendance records is the
    database's; each session's hours are computed once."""
    ids = sorted(cohorts)
    session_centi = (
        sa.select(Session.id.label("id"), sa.cast(_centi_hours(Session), sa.Integer).label("centi"))
        .where(Session.cohort_id.in_(ids), Session.status == SessionStatus.SCHEDULED)
        .subquery()
    )
    attended = AttendanceRecord.status.in_(ATTENDED)
    per_enrolment = (
        sa.select(
            AttendanceRecord.enrolment_id.label("enrolment_id"),
            sa.func.sum(sa.case((attended, 1), else_=0)).label("attended"),
            sa.func.sum(
                sa.case((AttendanceRecord.status == AttendanceStatus.EXCUSED, 1), else_=0)
            ).label("excused"),
            sa.func.sum(sa.case((attended, session_centi.c.centi), else_=0)).label("centi"),
        )
        .join(session_centi, session_centi.c.id == AttendanceRecord.session_id)
        .where(AttendanceRecord.cohort_id.in_(ids))
        .group_by(AttendanceRecord.enrolment_id)
        .subquery()
    )
    certified = (
        sa.select(Certificate.enrolment_id)
        .where(Certificate.cohort_id.in_(ids), Certificate.status == CertificateStatus.VALID)
        .distinct()
        .subquery()
    )
    held_by_cohort = {c.id: c.held for c in cohorts.values() if c.held}
    held = (
        sa.case(held_by_cohort, value=Enrolment.cohort_id, else_=0)
        if held_by_cohort
        else sa.literal(0)
    )
    n_attended = sa.func.coalesce(per_enrolment.c.attended, 0)
    n_excused = sa.func.coalesce(per_enrolment.c.excused, 0)
    counted = held - n_excused
    minimum = Cohort.min_attendance_pct
    enough = sa.and_(counted > 0, sa.or_(minimum.is_(None), n_attended * 100 >= minimum * counted))
    return (
        sa.select(
            Enrolment.id.label("enrolment_id"),
            Enrolment.cohort_id.label("cohort_id"),
            Enrolment.person_id.label("person_id"),
            Enrolment.status.label("status"),
            Person.country.label("country"),
            Person.sex.label("sex"),
            sa.func.nullif(sa.func.trim(Person.organisation), "").label("organisation"),
            sa.cast(sa.extract("year", Cohort.start_date), sa.Integer).label("year"),
            Cohort.delivery_mode.label("mode"),
            held.label("held"),
            n_attended.label("attended"),
            n_excused.label("excused"),
            counted.label("counted"),
            sa.func.coalesce(per_enrolment.c.centi, 0).label("centi"),
            sa.case((certified.c.enrolment_id.is_not(None), 1), else_=0).label("certified"),
            sa.case((enough, 1), else_=0).label("enough"),
        )
        .join(Person, Person.id == Enrolment.person_id)
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .outerjoin(per_enrolment, per_enrolment.c.enrolment_id == Enrolment.id)
        .outerjoin(certified, certified.c.enrolment_id == Enrolment.id)
        .where(Enrolment.cohort_id.in_(ids), Enrolment.status.in_(ACTIVE_ENROLMENT))
    )


# The dimensions of the breakdowns: (key, title, column of the stats, groups of cohorts).
_BREAKDOWNS: list[tuple[str, Any, str, bool]] = [
    ("country", _l("By country"), "country", False),
    ("sex", _l("By sex"), "sex", False),
    ("organisation", _l("By institution"), "organisation", False),
    ("cohort", _l("By cohort"), "cohort_id", True),
    ("year", _l("By year"), "year", True),
    ("mode", _l("By delivery mode"), "mode", True),
]


def _rollups(cohorts: dict[int, CohortInfo]) -> dict[tuple[str, Any], Figures]:
    """{(dimension, key): figures} for the totals ("all", None) and every group of every
    breakdown, in one query (a UNION ALL of grouped selects over the enrolments' stats)."""
    if not cohorts:
        return {}
    stats = _enrolment_stats(cohorts).cte("enrolment_stats")
    c = stats.c

    def figures(dimension: str, key: Any) -> sa.Select[Any]:
        trained = sa.case((c.attended > 0, c.person_id))
        return sa.select(
            sa.literal(dimension, sa.String).label("dimension"),
            key.label("key"),
            sa.func.count().label("enrolments"),
            sa.func.count(sa.distinct(c.person_id)).label("participants"),
            sa.func.count(sa.distinct(trained)).label("trained"),
            sa.func.sum(c.attended).label("attended"),
            sa.func.sum(c.counted).label("counted"),
            sa.func.sum(c.enough).label("enough"),
            sa.func.sum(sa.case((c.status == EnrolmentStatus.COMPLETED, 1), else_=0)),
            sa.func.sum(sa.case((c.status == EnrolmentStatus.NOT_COMPLETED, 1), else_=0)),
            sa.func.sum(c.certified).label("certified"),
            sa.func.sum(c.centi).label("centi"),
        )

    parts = [figures("all", sa.cast(sa.null(), sa.String))]
    for name, _title, column, _per_cohort in _BREAKDOWNS:
        key = sa.cast(c[column], sa.String)
        parts.append(figures(name, key).group_by(key))
    result: dict[tuple[str, Any], Figures] = {}
    with _serial_plan():
        rows = db.session.execute(sa.union_all(*parts)).all()
    for dimension, key, *numbers in rows:
        if key is not None and dimension in ("cohort", "year"):
            key = int(key)
        result[(dimension, key)] = Figures(*(int(n or 0) for n in numbers))
    return result


@contextmanager
def _serial_plan() -> Iterator[None]:
    """Run a statement without parallel workers on PostgreSQL: its parallel plan builds the
    per-enrolment aggregate once in every worker (three times the work, measured 390 ms
    against 265 ms for 15,861 enrolments). No effect on SQLite."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
    try:
        yield
    finally:
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather TO DEFAULT"))


def enrolment_rows(dashboard: Dashboard) -> list[EnrolmentRow]:
    """Every enrolment of the dashboard's cohorts with its attendance (one query): the raw
    rows of the donor report."""
    cohorts = {c.id: c for c in dashboard.cohorts}
    if not cohorts:
        return []
    stats = _enrolment_stats(cohorts).subquery()
    c = stats.c
    rows = db.session.execute(
        sa.select(
            c.enrolment_id,
            c.cohort_id,
            c.person_id,
            c.status,
            c.country,
            c.sex,
            c.organisation,
            c.held,
            c.attended,
            c.excused,
            c.centi,
            c.certified,
            c.enough,
        ).order_by(c.cohort_id, c.enrolment_id)
    )
    return [
        EnrolmentRow(
            eid,
            cid,
            pid,
            status,
            country,
            sex,
            org,
            int(held),
            int(att),
            int(exc),
            int(centi),
            bool(cert),
            bool(enough),
        )
        for eid, cid, pid, status, country, sex, org, held, att, exc, centi, cert, enough in rows
    ]


def _session_turnout(
    sessions: list[tuple[int, int, datetime, datetime, str]],
    cohorts: dict[int, CohortInfo],
    enrolled: dict[int, int],
) -> list[SessionTurnout]:
    """People on the roster attending (present or late) each session held (one query)."""
    if not sessions:
        return []
    counts = dict(
        db.session.execute(
            sa.select(AttendanceRecord.session_id, sa.func.count(AttendanceRecord.id))
            .join(Enrolment, Enrolment.id == AttendanceRecord.enrolment_id)
            .where(
                AttendanceRecord.session_id.in_([s[0] for s in sessions]),
                AttendanceRecord.status.in_(ATTENDED),
                Enrolment.status.in_(ACTIVE_ENROLMENT),
            )
            .group_by(AttendanceRecord.session_id)
        ).all()
    )
    several = len({s[1] for s in sessions}) > 1
    result = []
    for sid, cid, starts_at, _ends, title in sessions:
        cohort = cohorts[cid]
        label = f"{fmt_short_day(starts_at, cohort.timezone)} {title}".strip()
        if several:
            label = f"{cohort.name}: {label}"
        result.append(
            SessionTurnout(sid, cid, label, starts_at, counts.get(sid, 0), enrolled.get(cid, 0))
        )
    return result


# --------------------------------------------------------------------------- labels


def country_name(code: str | None) -> str:
    """A country's name in the viewer's language ("Azerbaijan", "Азербайджан")."""
    if not code:
        return _("Not recorded")
    try:
        locale = get_locale()
    except RuntimeError:
        locale = None
    name = locale.territories.get(code.upper()) if locale is not None else None
    return name or code


def _not_recorded(value: Any) -> str:
    return str(value) if value else _("Not recorded")


def _labeller(name: str, cohorts: dict[int, CohortInfo]) -> Callable[[Any], str]:
    if name == "country":
        return lambda key: f"{country_name(key)} ({key})" if key else _("Not recorded")
    if name in ("sex", "mode"):
        return lambda key: str(label_for(key)) if key else _("Not recorded")
    if name == "cohort":
        return lambda key: cohorts[key].label
    return _not_recorded


def _order(name: str) -> Callable[[Group], Any]:
    if name == "sex":
        order = [s.value for s in Sex]
        return lambda g: order.index(g.key) if g.key in order else len(order)
    if name == "mode":
        order = [m.value for m in DeliveryMode]
        return lambda g: order.index(g.key) if g.key in order else len(order)
    if name == "year":
        return lambda g: (g.key is None, g.key or 0)
    # countries and institutions: the largest first, "not recorded" last
    return lambda g: (g.key is None, -g.figures.participants, g.label.casefold())


def _cohort_key(name: str, cohort: CohortInfo) -> Any:
    if name == "cohort":
        return cohort.id
    if name == "year":
        return cohort.start_date.year
    return cohort.mode.value


def _breakdowns(
    rollups: dict[tuple[str, Any], Figures], cohorts: dict[int, CohortInfo]
) -> list[Breakdown]:
    result = []
    for name, title, _column, per_cohort in _BREAKDOWNS:
        groups = {
            key: figures for (dimension, key), figures in rollups.items() if dimension == name
        }
        if per_cohort:  # every cohort of the selection shows, with its hours delivered
            delivered: dict[Any, Decimal] = defaultdict(lambda: Decimal("0.00"))
            for cohort in cohorts.values():
                delivered[_cohort_key(name, cohort)] += cohort.hours_delivered
            for key, hours in delivered.items():
                groups.setdefault(key, Figures()).hours_delivered = hours
        label = _labeller(name, cohorts)
        items = [Group(key, label(key), figures) for key, figures in groups.items()]
        if name == "cohort":  # in the order of the cohorts (by start date)
            position = {cid: i for i, cid in enumerate(cohorts)}
            items.sort(key=lambda g: position[g.key])
        else:
            items.sort(key=_order(name))
        result.append(Breakdown(name, str(title), items, per_cohort))
    return result


# --------------------------------------------------------------------------- the dashboard


def dashboard(filters: Filters, programme_ids: Collection[int] | None) -> Dashboard:
    """Every figure of the cohorts selected by ``filters`` among the programmes
    ``programme_ids`` (None: all). At most six queries whatever the number of enrolments
    (and, on PostgreSQL, the two settings of ``_serial_plan``)."""
    cohort_list = _cohorts(filters, programme_ids)
    sessions = _held_sessions([c.id for c in cohort_list])
    held: dict[int, int] = defaultdict(int)
    delivered: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for _sid, cid, starts_at, ends_at, _title in sessions:
        held[cid] += 1
        delivered[cid] += session_hours(starts_at, ends_at)
    cohorts = {
        c.id: replace(c, held=held[c.id], hours_delivered=delivered[c.id]) for c in cohort_list
    }
    rollups = _rollups(cohorts)
    totals = rollups.get(("all", None), Figures())
    totals.hours_delivered = sum(delivered.values(), Decimal("0.00"))
    turnout = None
    if len(sessions) <= SESSION_CHART_MAX:
        enrolled = {
            key: figures.enrolments for (dim, key), figures in rollups.items() if dim == "cohort"
        }
        turnout = _session_turnout(sessions, cohorts, enrolled)
    programme_id_set = {c.programme_id for c in cohort_list}
    if filters.programme_id is not None:
        programme_id_set.add(filters.programme_id)
    programmes, funders = _programmes_and_funders(programme_id_set)
    return Dashboard(
        filters=filters,
        cohorts=list(cohorts.values()),
        totals=totals,
        breakdowns=_breakdowns(rollups, cohorts),
        sessions=turnout,
        sessions_held=len(sessions),
        programmes=programmes,
        funders=funders,
    )


def _programmes_and_funders(ids: Iterable[int]) -> tuple[list[Programme], list[str]]:
    """The programmes of the selection and their funders, by funding share (one query)."""
    wanted = sorted(set(ids))
    if not wanted:
        return [], []
    from sqlalchemy.orm import selectinload

    programmes = list(
        db.session.scalars(
            sa.select(Programme)
            .where(Programme.id.in_(wanted))
            .options(selectinload(Programme.partners))
            .order_by(Programme.code)
        )
    )
    funders: list[str] = []
    for programme in programmes:
        for partner in programme.partners:
            if partner.role == PartnerRole.FUNDER and partner.name not in funders:
                funders.append(partner.name)
    return programmes, funders


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Column:
    label: Any
    value: Callable[[Figures], Any]
    kind: str = "count"  # "count", "pct" or "hours"
    per_cohort: bool = False  # only for groups of cohorts


# The figures of every breakdown table (page, spreadsheet and PDF), in order.
COLUMNS: list[Column] = [
    Column(_l("Participants"), lambda f: f.participants),
    Column(_l("People trained"), lambda f: f.people_trained),
    Column(_l("Enrolments"), lambda f: f.enrolments),
    Column(_l("Attendance rate"), lambda f: f.attendance_rate, "pct"),
    Column(_l("Attended enough"), lambda f: f.attended_enough),
    Column(_l("Completion rate"), lambda f: f.completion_rate, "pct"),
    Column(_l("Certificates"), lambda f: f.certified),
    Column(_l("Person-hours"), lambda f: f.person_hours, "hours"),
    Column(_l("Hours delivered"), lambda f: f.hours_delivered, "hours", per_cohort=True),
]


def columns(breakdown: Breakdown | None = None) -> list[Column]:
    per_cohort = breakdown is None or breakdown.per_cohort
    return [c for c in COLUMNS if per_cohort or not c.per_cohort]


@dataclass(frozen=True)
class Headline:
    key: str
    label: Any
    value: Any
    kind: str = "count"
    detail: Any = ""


def headline(totals: Figures, cohorts: int) -> list[Headline]:
    """The dashboard's key figures, as shown on the page and in the reports."""
    return [
        Headline(
            "people_trained",
            _l("People trained"),
            totals.people_trained,
            detail=_l("unique people who attended at least one session"),
        ),
        Headline(
            "participants",
            _l("Participants"),
            totals.participants,
            detail=_l("unique people on the rosters"),
        ),
        Headline(
            "enrolments",
            _l("Enrolments"),
            totals.enrolments,
            detail=_l("in %(n)s cohorts", n=cohorts),
        ),
        Headline(
            "attendance_rate",
            _l("Attendance rate"),
            totals.attendance_rate,
            "pct",
            _l(
                "%(attended)s of %(counted)s sessions counted",
                attended=totals.attended,
                counted=totals.counted,
            ),
        ),
        Headline(
            "completion_rate",
            _l("Completion rate"),
            totals.completion_rate,
            "pct",
            _l(
                "%(completed)s completed of %(decided)s with an outcome",
                completed=totals.completed,
                decided=totals.completed + totals.not_completed,
            ),
        ),
        Headline(
            "certificates", _l("Certificates"), totals.certified, detail=_l("valid certificates")
        ),
        Headline(
            "hours_delivered",
            _l("Hours delivered"),
            totals.hours_delivered,
            "hours",
            _l("hours of the sessions held"),
        ),
        Headline(
            "person_hours",
            _l("Person-hours received"),
            totals.person_hours,
            "hours",
            _l("hours attended, summed over enrolments"),
        ),
    ]


def fmt_value(value: Any, kind: str = "count") -> str:
    """A figure as shown, in the viewer's language ("1,234", "87.5%", "12.5"); "–" when it
    cannot be computed (no session counted yet)."""
    from flask_babel import format_decimal

    if value is None:
        return "–"
    if kind == "pct":
        return f"{format_decimal(value, format='#,##0.0')}%"
    if kind == "hours":
        return format_decimal(Decimal(value).normalize(), format="#,##0.##")
    return format_decimal(value, format="#,##0")
