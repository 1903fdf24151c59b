"""The programme dashboard: every figure of a selection of cohorts, in a bounded number of
queries whatever the number of enrolments.

The selection is the cohorts of the programmes in the viewer's scope, narrowed by programme,
cohort, funder and period (a cohort is in a period when its start date is). The figures
(defined in docs/reports.md, and on the dashboard) follow the one attendance computation of
``attendance.services`` (``Summary``): a session is *held* once any attendance is recorded
for it and is not cancelled; an enrolment's sessions counted are those held less those it was
excused from; attended means present or late.

The database does the heavy work: one grouped query gives, for each enrolment on the
rosters, its sessions attended and excused, the hours attended and whether it holds a valid
certificate; the breakdowns are roll-ups of those rows (people are counted once per group
through their ids).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from trainingmgr.attendance.models import ATTENDED, AttendanceRecord, AttendanceStatus
from trainingmgr.attendance.services import session_hours
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
from trainingmgr.core.timefmt import fmt_date
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
    """One enrolment on a roster, with its attendance (``attendance.services.Summary``)."""

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
    people: set[int] = field(default_factory=set)
    trained: set[int] = field(default_factory=set)
    attended: int = 0
    counted: int = 0
    attended_enough: int = 0
    completed: int = 0
    not_completed: int = 0
    certified: int = 0
    centi_hours: int = 0
    # Hours of the sessions held: for groups of cohorts (all, cohort, year, delivery mode).
    hours_delivered: Decimal | None = None

    def add(self, row: EnrolmentRow) -> None:
        self.enrolments += 1
        self.people.add(row.person_id)
        if row.attended:
            self.trained.add(row.person_id)
        self.attended += row.attended
        self.counted += row.counted
        self.attended_enough += row.attended_enough
        self.completed += row.status == EnrolmentStatus.COMPLETED
        self.not_completed += row.status == EnrolmentStatus.NOT_COMPLETED
        self.certified += row.certified
        self.centi_hours += row.centi_hours

    @property
    def participants(self) -> int:
        return len(self.people)

    @property
    def people_trained(self) -> int:
        return len(self.trained)

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
    rows: list[EnrolmentRow]
    totals: Figures
    breakdowns: list[Breakdown]
    sessions: list[SessionTurnout] | None  # None: too many sessions held to chart
    sessions_held: int
    programmes: list[Programme]
    funders: list[str]

    def breakdown(self, key: str) -> Breakdown:
        return next(b for b in self.breakdowns if b.key == key)

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


def _enrolment_rows(cohorts: dict[int, CohortInfo], held: dict[int, int]) -> list[EnrolmentRow]:
    """Every enrolment on the rosters of ``cohorts``, with its attendance (one query)."""
    if not cohorts:
        return []
    ids = sorted(cohorts)
    attended = AttendanceRecord.status.in_(ATTENDED)
    per_enrolment = (
        sa.select(
            AttendanceRecord.enrolment_id.label("enrolment_id"),
            sa.func.sum(sa.case((attended, 1), else_=0)).label("attended"),
            sa.func.sum(
                sa.case((AttendanceRecord.status == AttendanceStatus.EXCUSED, 1), else_=0)
            ).label("excused"),
            sa.func.sum(sa.case((attended, _centi_hours(Session)), else_=0)).label("centi"),
        )
        .join(Session, Session.id == AttendanceRecord.session_id)
        .where(
            AttendanceRecord.cohort_id.in_(ids),
            Session.status == SessionStatus.SCHEDULED,
        )
        .group_by(AttendanceRecord.enrolment_id)
        .subquery()
    )
    certified = (
        sa.select(Certificate.enrolment_id)
        .where(Certificate.cohort_id.in_(ids), Certificate.status == CertificateStatus.VALID)
        .distinct()
        .subquery()
    )
    stmt = (
        sa.select(
            Enrolment.id,
            Enrolment.cohort_id,
            Enrolment.person_id,
            Enrolment.status,
            Person.country,
            Person.sex,
            Person.organisation,
            sa.func.coalesce(per_enrolment.c.attended, 0),
            sa.func.coalesce(per_enrolment.c.excused, 0),
            sa.func.coalesce(per_enrolment.c.centi, 0),
            certified.c.enrolment_id.is_not(None),
        )
        .join(Person, Person.id == Enrolment.person_id)
        .outerjoin(per_enrolment, per_enrolment.c.enrolment_id == Enrolment.id)
        .outerjoin(certified, certified.c.enrolment_id == Enrolment.id)
        .where(Enrolment.cohort_id.in_(ids), Enrolment.status.in_(ACTIVE_ENROLMENT))
        .order_by(Enrolment.cohort_id, Enrolment.id)
    )
    result = []
    for eid, cid, pid, status, country, sex, org, n_att, n_exc, centi, cert in db.session.execute(
        stmt
    ):
        n_held = held.get(cid, 0)
        n_att, n_exc = int(n_att), int(n_exc)
        counted = n_held - n_exc
        minimum = cohorts[cid].min_attendance_pct
        enough = counted > 0 and (minimum is None or n_att * 100 >= minimum * counted)
        result.append(
            EnrolmentRow(
                eid,
                cid,
                pid,
                status,
                country,
                sex,
                (org or "").strip() or None,
                n_held,
                n_att,
                n_exc,
                int(centi),
                bool(cert),
                enough,
            )
        )
    return result


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
        label = f"{fmt_date(starts_at, cohort.timezone, 'short')} {title}".strip()
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


_BREAKDOWNS: list[tuple[str, Any, bool]] = [
    ("country", _l("By country"), False),
    ("sex", _l("By sex"), False),
    ("organisation", _l("By institution"), False),
    ("cohort", _l("By cohort"), True),
    ("year", _l("By year"), True),
    ("mode", _l("By delivery mode"), True),
]


def _cohort_key(name: str, cohort: CohortInfo) -> Any:
    if name == "cohort":
        return cohort.id
    if name == "year":
        return cohort.start_date.year
    return cohort.mode.value


def _group_key(name: str, row: EnrolmentRow, cohort: CohortInfo) -> Any:
    if name == "country":
        return row.country
    if name == "sex":
        return row.sex.value if row.sex else None
    if name == "organisation":
        return row.organisation
    return _cohort_key(name, cohort)


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
    if name in ("year", "cohort"):
        return lambda g: 0  # already in date order
    # countries and institutions: the largest first, "not recorded" last
    return lambda g: (g.key is None, -g.figures.participants, g.label.casefold())


def _breakdowns(rows: list[EnrolmentRow], cohorts: dict[int, CohortInfo]) -> list[Breakdown]:
    result = []
    for name, title, per_cohort in _BREAKDOWNS:
        groups: dict[Any, Figures] = {}
        if per_cohort:  # every cohort of the selection shows, with its hours delivered
            for cohort in cohorts.values():
                figures = groups.setdefault(
                    _cohort_key(name, cohort), Figures(hours_delivered=Decimal("0.00"))
                )
                figures.hours_delivered = (figures.hours_delivered or 0) + cohort.hours_delivered
        for row in rows:
            key = _group_key(name, row, cohorts[row.cohort_id])
            groups.setdefault(key, Figures()).add(row)
        label = _labeller(name, cohorts)
        items = [Group(key, label(key), figures) for key, figures in groups.items()]
        items.sort(key=_order(name))
        result.append(Breakdown(name, str(title), items, per_cohort))
    return result


# --------------------------------------------------------------------------- the dashboard


def dashboard(filters: Filters, programme_ids: Collection[int] | None) -> Dashboard:
    """Every figure of the cohorts selected by ``filters`` among the programmes
    ``programme_ids`` (None: all). At most seven queries whatever the number of enrolments."""
    cohort_list = _cohorts(filters, programme_ids)
    cohorts = {c.id: c for c in cohort_list}
    sessions = _held_sessions(list(cohorts))
    held: dict[int, int] = defaultdict(int)
    delivered: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for _sid, cid, starts_at, ends_at, _title in sessions:
        held[cid] += 1
        delivered[cid] += session_hours(starts_at, ends_at)
    cohort_list = [
        CohortInfo(**{**c.__dict__, "held": held[c.id], "hours_delivered": delivered[c.id]})
        for c in cohort_list
    ]
    cohorts = {c.id: c for c in cohort_list}
    rows = _enrolment_rows(cohorts, held)
    totals = Figures(hours_delivered=sum(delivered.values(), Decimal("0.00")))
    enrolled: dict[int, int] = defaultdict(int)
    for row in rows:
        totals.add(row)
        enrolled[row.cohort_id] += 1
    turnout = (
        _session_turnout(sessions, cohorts, enrolled)
        if len(sessions) <= SESSION_CHART_MAX
        else None
    )
    programme_id_set = {c.programme_id for c in cohort_list}
    if filters.programme_id is not None:
        programme_id_set.add(filters.programme_id)
    programmes, funders = _programmes_and_funders(programme_id_set)
    return Dashboard(
        filters=filters,
        cohorts=cohort_list,
        rows=rows,
        totals=totals,
        breakdowns=_breakdowns(rows, cohorts),
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
