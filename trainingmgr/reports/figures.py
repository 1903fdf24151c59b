"""The dashboard's data: cohorts and enrolment rows of a selection, the figures of a group of
enrolments, the breakdowns and the session turnout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from trainingmgr.cohorts.models import (
    DeliveryMode,
    EnrolmentStatus,
)
from trainingmgr.people.models import Sex
from trainingmgr.programmes.models import (
    Programme,
    ProgrammeKind,
)
from trainingmgr.reports.filters import Filters


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


def pct(numerator: int, denominator: int) -> Decimal | None:
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
        return pct(self.attended, self.counted)

    @property
    def completion_rate(self) -> Decimal | None:
        return pct(self.completed, self.completed + self.not_completed)

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

    @property
    def empty_note(self) -> str:
        """Why the report has no figures to show, in words ("" when it has some)."""
        if not self.cohorts:
            return str(_l("No cohort matches these filters."))
        if not self.sessions_held:
            return str(
                _l(
                    "No session of these cohorts has been held yet (no attendance is "
                    "recorded), so there are no attendance figures."
                )
            )
        return ""


# The dimensions of the breakdowns: (key, title, column of the stats, groups of cohorts).
_BREAKDOWNS: list[tuple[str, Any, str, bool]] = [
    ("country", _l("By country"), "country", False),
    ("sex", _l("By sex"), "sex", False),
    ("organisation", _l("By institution"), "organisation", False),
    ("cohort", _l("By cohort"), "cohort_id", True),
    ("year", _l("By year"), "year", True),
    ("mode", _l("By delivery mode"), "mode", True),
]
