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

The code is split by concern: ``filters`` (the selection and the filter choices), ``figures``
(the data classes), ``aggregates`` (the SQL), ``breakdowns`` (labels and order of the groups)
and ``headline`` (table columns, key figures, formatting); this module assembles the dashboard
and re-exports every public name.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import replace
from decimal import Decimal

from trainingmgr.attendance.summary import session_hours
from trainingmgr.reports.aggregates import (
    _cohorts,
    _held_sessions,
    _programmes_and_funders,
    _rollups,
    _session_turnout,
    enrolment_rows,
)
from trainingmgr.reports.breakdowns import _breakdowns, country_name
from trainingmgr.reports.figures import (
    Breakdown,
    CohortInfo,
    Dashboard,
    EnrolmentRow,
    Figures,
    Group,
    SessionTurnout,
)
from trainingmgr.reports.filters import Filters, cohort_choices, funder_choices, programme_choices
from trainingmgr.reports.headline import COLUMNS, Column, Headline, columns, fmt_value, headline

__all__ = [
    "COLUMNS",
    "SESSION_CHART_MAX",
    "Breakdown",
    "CohortInfo",
    "Column",
    "Dashboard",
    "EnrolmentRow",
    "Figures",
    "Filters",
    "Group",
    "Headline",
    "SessionTurnout",
    "cohort_choices",
    "columns",
    "country_name",
    "dashboard",
    "enrolment_rows",
    "fmt_value",
    "funder_choices",
    "headline",
    "programme_choices",
]

# The attendance-by-session chart is drawn when the selection has at most this many sessions
# held (one cohort, or a few short ones); otherwise the page asks to choose a cohort.
SESSION_CHART_MAX = 40


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
