"""The attendance matrix as CSV and XLSX, with text a spreadsheet would run as a formula
neutralised (``safe_cell``, also used by the reports)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from trainingmgr.attendance.matrix import Matrix
from trainingmgr.attendance.models import (
    AttendanceStatus,
)
from trainingmgr.core.timefmt import fmt_datetime

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula (prefix it with ')."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def matrix_table(matrix: Matrix) -> list[list[Any]]:
    """The matrix as rows of cells (header first, turnout last), for CSV and XLSX."""
    tz = matrix.cohort.timezone
    header: list[Any] = [
        _("Last name"),
        _("First name"),
        _("E-mail"),
        _("Country"),
        _("Organisation"),
    ]
    for col in matrix.columns:
        s = col.session
        title = s.display_title or (s.module.code if s.module else "")
        header.append(f"{fmt_datetime(s.starts_at, tz)} {title}".strip())
    header += [
        _("Sessions held"),
        _("Attended"),
        _("Excused"),
        _("Attendance rate (%)"),
        _("Hours"),
        _("Below threshold"),
    ]
    labels = {s: str(s.label) for s in AttendanceStatus}
    table: list[list[Any]] = [header]
    for row in matrix.rows:
        p = row.enrolment.person
        summary = row.summary
        table.append(
            [
                p.last_name,
                p.first_name,
                p.email or "",
                p.country or "",
                p.organisation or "",
                *[labels[c] if c else "" for c in row.cells],
                summary.held,
                summary.attended,
                summary.excused,
                summary.rate_pct if summary.rate_pct is not None else "",
                summary.hours,
                _("yes") if row.below else _("no"),
            ]
        )
    turnout: list[Any] = [_("Turnout (%)"), "", "", "", ""]
    turnout += [matrix.turnout_pct(c) if c.held else "" for c in matrix.columns]
    table.append(turnout + [""] * 6)
    return [[safe_cell(v) for v in line] for line in table]


def export_csv(matrix: Matrix) -> bytes:
    """UTF-8 CSV with a byte-order mark, so spreadsheet programs read any script."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in matrix_table(matrix):
        writer.writerow(["" if v is None else v for v in line])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_xlsx(matrix: Matrix) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Attendance")[:31]
    for line in matrix_table(matrix):
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in line])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
