"""The donor report in one click: an XLSX workbook (here) and a PDF (``pdf_report``), with
the dashboard's numbers, and the texts both share (title, period, tables, definitions).

Both are built from ``services.dashboard`` (the same figures as the page) in the language
in force (the view sets it). The workbook has a summary sheet, one sheet per breakdown, the
sessions, one sheet per table of the extra sections (``reports.sections``) and the raw rows
(one per enrolment, without names or contact details); text that a spreadsheet would run as
a formula is neutralised (``attendance.exports.safe_cell``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from trainingmgr.attendance.exports import safe_cell
from trainingmgr.core.labels import label_for
from trainingmgr.core.timefmt import fmt_date
from trainingmgr.core.types import utcnow
from trainingmgr.reports.figures import pct
from trainingmgr.reports.sections import Content, Table
from trainingmgr.reports.services import (
    Dashboard,
    columns,
    enrolment_rows,
    fmt_value,
    headline,
)

# --------------------------------------------------------------------------- shared


def period_text(dashboard: Dashboard) -> str:
    start, end = dashboard.filters.start, dashboard.filters.end
    if start and end:
        return _(
            "Cohorts starting from %(start)s to %(end)s", start=fmt_date(start), end=fmt_date(end)
        )
    if start:
        return _("Cohorts starting from %(start)s", start=fmt_date(start))
    if end:
        return _("Cohorts starting until %(end)s", end=fmt_date(end))
    return _("All cohorts, whenever they started")


def title_text(dashboard: Dashboard) -> str:
    if len(dashboard.programmes) == 1:
        p = dashboard.programmes[0]
        return f"{p.code} — {p.title}"
    if dashboard.programmes:
        return ", ".join(p.code for p in dashboard.programmes)
    return _("No programme")


def file_name(dashboard: Dashboard) -> str:
    what = dashboard.programmes[0].code if len(dashboard.programmes) == 1 else _("programmes")
    return f"{_('Donor report')} {what} {date.today().isoformat()}"


def subtitle_lines(dashboard: Dashboard) -> list[str]:
    lines = [period_text(dashboard)]
    filters = dashboard.filters
    if filters.cohort_id is not None and dashboard.cohorts:
        lines.append(_("Cohort: %(name)s", name=dashboard.cohorts[0].label))
    if filters.funder:
        lines.append(_("Programmes funded by %(funder)s", funder=filters.funder))
    if dashboard.funders:
        lines.append(_("Funders: %(names)s", names=", ".join(dashboard.funders)))
    lines.append(_("Prepared on %(day)s", day=fmt_date(utcnow().date())))
    return lines


def breakdown_tables(dashboard: Dashboard) -> list[Table]:
    """Each breakdown as a table of shown values (the PDF's and the sections' shape)."""
    tables = []
    for breakdown in dashboard.breakdowns:
        cols = columns(breakdown)
        rows = [
            [group.label, *(fmt_value(c.value(group.figures), c.kind) for c in cols)]
            for group in breakdown.groups
        ]
        tables.append(Table(breakdown.title, [_("Group"), *(str(c.label) for c in cols)], rows))
    return tables


def session_table(dashboard: Dashboard) -> Table | None:
    if not dashboard.sessions:
        return None
    return Table(
        _("Attendance by session"),
        [_("Session"), _("Attended"), _("On the roster"), _("Turnout")],
        [
            [
                s.label,
                s.attended,
                s.enrolled,
                f"{s.turnout_pct}%" if s.turnout_pct is not None else "–",
            ]
            for s in dashboard.sessions
        ],
    )


# --------------------------------------------------------------------------- XLSX

_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


class _Workbook:
    def __init__(self) -> None:
        from openpyxl import Workbook

        self.book = Workbook()
        self.titles: set[str] = set()
        self.first = True

    def sheet(self, title: str, rows: Sequence[Sequence[Any]], header_rows: int = 1) -> None:
        from openpyxl.styles import Font

        name = _SHEET_FORBIDDEN.sub(" ", title)[:31].strip() or "Sheet"
        base, n = name, 2
        while name.casefold() in self.titles:
            suffix = f" ({n})"
            name, n = base[: 31 - len(suffix)] + suffix, n + 1
        self.titles.add(name.casefold())
        if self.first:
            sheet = self.book.active
            sheet.title = name
            self.first = False
        else:
            sheet = self.book.create_sheet(name)
        for line in rows:
            sheet.append([_number(safe_cell(v)) for v in line])
        for row in sheet.iter_rows(min_row=1, max_row=header_rows):
            for cell in row:
                cell.font = Font(bold=True)
        sheet.freeze_panes = sheet.cell(row=header_rows + 1, column=2)
        sheet.column_dimensions["A"].width = 40

    def save(self) -> bytes:
        out = io.BytesIO()
        self.book.save(out)
        return out.getvalue()


def _raw_value(value: Any, kind: str) -> Any:
    """A figure as a number for a spreadsheet (a rate as a percentage, its header says so)."""
    if value is None:
        return ""
    return value


def xlsx(dashboard: Dashboard, extra: Sequence[Content] = ()) -> bytes:
    """The donor report as a workbook (see the module docstring)."""
    book = _Workbook()
    summary: list[list[Any]] = [[_("Donor report"), title_text(dashboard)]]
    summary += [[line] for line in subtitle_lines(dashboard)]
    summary.append([])
    summary.append([_("Figure"), _("Value"), _("Definition")])
    for item in headline(dashboard.totals, len(dashboard.cohorts)):
        summary.append(
            [_header(item.label, item.kind), _raw_value(item.value, item.kind), str(item.detail)]
        )
    book.sheet(_("Summary"), summary)

    for breakdown in dashboard.breakdowns:
        cols = columns(breakdown)
        header = [_("Group"), *(_header(c.label, c.kind) for c in cols)]
        rows = [
            [group.label, *(_raw_value(c.value(group.figures), c.kind) for c in cols)]
            for group in breakdown.groups
        ]
        book.sheet(breakdown.title, [header, *rows])

    sessions = session_table(dashboard)
    if sessions is not None:
        rows = [
            [s.label, s.attended, s.enrolled, "" if s.turnout_pct is None else s.turnout_pct]
            for s in dashboard.sessions or []
        ]
        book.sheet(sessions.title, [[*sessions.header[:3], _("Turnout (%)")], *rows])

    for content in extra:
        if content.figures:
            book.sheet(content.title, [[_("Figure"), _("Value")], *map(list, content.figures)])
        for table in content.tables:
            book.sheet(table.title, [list(table.header), *map(list, table.rows)])

    book.sheet(_("Rows"), [_ROW_HEADER(), *_raw_rows(dashboard)])
    return book.save()


def _header(label: Any, kind: str) -> str:
    return _("%(label)s (%%)", label=label) if kind == "pct" else str(label)


def _ROW_HEADER() -> list[str]:  # noqa: N802 (a constant translated when called)
    return [
        _("Programme"),
        _("Cohort"),
        _("Year"),
        _("Delivery mode"),
        _("Country"),
        _("Sex"),
        _("Institution"),
        _("Enrolment status"),
        _("Sessions held"),
        _("Attended"),
        _("Excused"),
        _("Sessions counted"),
        _("Attendance rate (%)"),
        _("Hours attended"),
        _("Attended enough"),
        _("Certificate"),
    ]


def _raw_rows(dashboard: Dashboard) -> list[list[Any]]:
    cohorts = {c.id: c for c in dashboard.cohorts}
    yes, no = _("yes"), _("no")
    labels: dict[Any, str] = {}

    def label(value: Any) -> str:  # each stored value translated once
        if value is None:
            return ""
        if value not in labels:
            labels[value] = str(label_for(value))
        return labels[value]

    result = []
    for row in enrolment_rows(dashboard):
        cohort = cohorts[row.cohort_id]
        rate = pct(row.attended, row.counted)  # rounded down, as every other figure
        result.append(
            [
                cohort.programme_code,
                cohort.name,
                cohort.start_date.year,
                label(cohort.mode),
                row.country or "",
                label(row.sex),
                row.organisation or "",
                label(row.status),
                row.held,
                row.attended,
                row.excused,
                row.counted,
                "" if rate is None else rate,
                row.hours,
                yes if row.attended_enough else no,
                yes if row.certified else no,
            ]
        )
    return result


def definitions() -> list[str]:
    """How each figure is counted, printed at the end of the PDF (docs/reports.md has more)."""
    return [
        _("Participants: unique people on the rosters (enrolled, completed or not completed)."),
        _(
            "People trained: unique participants who attended (present or late) at least one "
            "session."
        ),
        _(
            "Attendance rate: sessions attended (present or late) divided by sessions counted; "
            "a session counts once attendance is recorded for it, unless cancelled or the "
            "participant was excused."
        ),
        _("Attended enough: enrolments whose attendance rate reaches their cohort's threshold."),
        _(
            "Completion rate: completed enrolments among those with an outcome (completed or "
            "not completed)."
        ),
        _(
            "Hours delivered: hours of the sessions held. Person-hours: hours attended, summed "
            "over enrolments."
        ),
        _("A cohort belongs to the period in which it starts."),
    ]
