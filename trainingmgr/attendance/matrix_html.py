"""The matrix page's body rows as HTML (``templates/attendance/matrix.html`` prints them).

A 120 x 60 matrix has 7,200 status cells of only six kinds (four statuses, not recorded,
not held): each kind is written and escaped once per page, and the rows join them. Each
row's name, rate and hours are one format string; the texts every row shares are translated
once per page.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from markupsafe import Markup, escape

from trainingmgr.attendance.matrix import Matrix, MatrixRow
from trainingmgr.attendance.models import AttendanceStatus
from trainingmgr.core.text import html_escape
from trainingmgr.core.timefmt import datetime_formatter, short_day_formatter, time_formatter

_HEAD = (
    '<th scope="col" class="matrix-session" data-testid="session-col-{id}"\n'
    '    title="{title} · {when}">\n'
    '  {day}<br><span class="fw-normal">{time}{module}</span>\n'
    "</th>\n"
)
_TURNOUT = (
    '<td class="text-center small" data-testid="turnout-{id}"\n    title="{title}">{pct}</td>\n'
)

_ROW = (
    '<tr class="{below_class}" data-testid="matrix-row-{eid}"\n'
    '    data-person="{name}">\n'
    '  <th scope="row" class="matrix-name">{name}{below}</th>\n'
    '  <td class="text-end" data-testid="rate-{eid}"\n'
    '      title="{rate_title}">{rate}</td>\n'
    '  <td class="text-end" data-testid="hours-{eid}">{hours}</td>\n'
    "  {cells}\n"
    "</tr>\n"
)


def _rate_title() -> str:
    text = _(
        "%(a)s attended of %(c)s counted (%(h)s held, %(e)s excused)",
        a="%(a)s",
        c="%(c)s",
        h="%(h)s",
        e="%(e)s",
    )
    return str(escape(text))


def matrix_head(matrix: Matrix) -> Markup:
    """The session columns' headings: date, time and module, the title and time as a hint."""
    tz = matrix.cohort.timezone
    when, day, time = (
        datetime_formatter(tz),
        short_day_formatter(tz),
        time_formatter(tz),
    )
    out = []
    for column in matrix.columns:
        s = column.session
        out.append(
            _HEAD.format(
                id=s.id,
                title=escape(s.display_title),
                when=escape(when(s.starts_at)),
                day=escape(day(s.starts_at)),
                time=escape(time(s.starts_at)),
                module=escape(f" {s.module.code}") if s.module else "",
            )
        )
    return Markup("".join(out))


def matrix_turnout(matrix: Matrix) -> Markup:
    """The turnout of each session column (the table's footer)."""
    title = str(escape(_("%(a)s of %(n)s present or late", a="%(a)s", n="%(n)s")))
    out = []
    for column in matrix.columns:
        pct = matrix.turnout_pct(column)
        out.append(
            _TURNOUT.format(
                id=column.session.id,
                title=title % {"a": column.attended, "n": matrix.enrolled},
                pct=f"{pct}%" if pct is not None else "–",
            )
        )
    return Markup("".join(out))


def matrix_rows(
    matrix: Matrix,
    letters: dict[AttendanceStatus, tuple[str, str]],
    rows: Sequence[MatrixRow] | None = None,
) -> Markup:
    """The ``<tbody>`` rows (``rows``, default all): name (and "below" badge), rate, hours
    and the status cells."""
    by_status = {
        st: str(Markup('<td class="att att-{}" title="{}">{}</td>').format(st.value, label, letter))
        for st, (letter, label) in letters.items()
    }
    not_recorded = str(
        Markup('<td class="att att-none" title="{}"></td>').format(_("not recorded"))
    )
    empty = [
        not_recorded if c.held else '<td class="att att-notheld"></td>' for c in matrix.columns
    ]
    below = str(
        Markup('\n    <span class="badge text-bg-danger" title="{}">{}</span>').format(
            _("Below the cohort's completion threshold"), _("below")
        )
    )
    rate_title = _rate_title()
    out = []
    for row in matrix.rows if rows is None else rows:
        sm = row.summary
        eid = row.enrolment.id
        rate = sm.rate_pct
        out.append(
            _ROW.format(
                eid=eid,
                name=html_escape(row.enrolment.person.full_name),
                below_class="matrix-below" if row.below else "",
                below=below if row.below else "",
                rate_title=rate_title
                % {"a": sm.attended, "c": sm.counted, "h": sm.held, "e": sm.excused},
                rate=f"{rate}%" if rate is not None else "–",
                hours=html_escape(sm.hours),
                cells="".join(
                    [by_status[st] if st else empty[i] for i, st in enumerate(row.cells)]
                ),
            )
        )
    return Markup("".join(out))
