"""The figures as shown: the columns of the breakdown tables, the headline figures and their
formatting in the viewer's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from trainingmgr.core.numbers import fmt_number, fmt_percent
from trainingmgr.reports.figures import Breakdown, Figures


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
    return [*_reach(totals, cohorts), *_rates(totals), *_outputs(totals)]


def _reach(totals: Figures, cohorts: int) -> list[Headline]:
    """Who the programmes reached: people trained, participants, enrolments."""
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
            detail=lazy_ngettext("in %(num)d cohort", "in %(num)d cohorts", cohorts),
        ),
    ]


def _rates(totals: Figures) -> list[Headline]:
    """Attendance and completion rates."""
    return [
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
    ]


def _outputs(totals: Figures) -> list[Headline]:
    """What was delivered: certificates, hours of sessions, person-hours."""
    return [
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
    if value is None:
        return "–"
    if kind == "pct":
        return fmt_percent(value)
    if kind == "hours":
        return fmt_number(value)
    return fmt_number(value, "#,##0")
