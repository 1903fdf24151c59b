"""Charts drawn on the server: accessible SVG for pages, the same bars in the PDF report.

A ``Chart`` is data only (a title, a description, bars); ``svg`` draws it for a page (a
``<title>`` and a ``<desc>``, ``role="img"``, colours from classes in
static/css/reports.css: no inline style, no script) and ``draw`` draws it on a ReportLab
canvas. Pages print the same data as a table beside each chart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup, escape

from trainingmgr.core.numbers import fmt_number, fmt_percent
from trainingmgr.reports.services import Dashboard, Figures

# SVG geometry (user units; the SVG scales to the width of its container).
WIDTH = 520
LABEL_W = 200
VALUE_W = 60
BAR_H = 22
GAP = 8
TOP = 6


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | int
    shown: str  # the value as printed ("42", "87.5%")
    note: str = ""  # e.g. "of 120"


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    description: str
    bars: tuple[Bar, ...]
    maximum: Decimal | int | None = None  # None: the largest bar
    kind: str = "bars"  # "bars" or "funnel" (a class on the SVG)

    @property
    def top(self) -> Decimal | int:
        values = [b.value for b in self.bars]
        return self.maximum or (max(values) if values and max(values) > 0 else 1)


def _number(value: Decimal | int) -> str:
    return fmt_number(value, "#,##0.#")


def _percent(value: Decimal | None) -> str:
    return "–" if value is None else fmt_percent(value)


def _counts(key: str, title: str, what: str, pairs: Iterable[tuple[str, int]]) -> Chart:
    bars = tuple(Bar(label, n, _number(n)) for label, n in pairs)
    summary = "; ".join(f"{b.label}: {b.shown}" for b in bars)
    return Chart(key, title, f"{what} {summary}." if bars else _("No data."), bars)


def by_country(dashboard: Dashboard, limit: int = 12) -> Chart:
    groups = dashboard.breakdown("country").groups
    pairs = [(g.label, g.figures.participants) for g in groups[:limit]]
    rest = groups[limit:]
    if rest:
        # A person has one country: the groups' participants add up to unique people.
        people = sum(g.figures.participants for g in rest)
        pairs.append((_("Other countries (%(n)s)", n=len(rest)), people))
    return _counts(
        "country",
        _("Participants by country"),
        _("Participants (unique people) by country:"),
        pairs,
    )


def by_sex(dashboard: Dashboard) -> Chart:
    pairs = [(g.label, g.figures.participants) for g in dashboard.breakdown("sex").groups]
    return _counts(
        "sex", _("Participants by sex"), _("Participants (unique people) by sex:"), pairs
    )


def funnel(totals: Figures) -> Chart:
    enrolled = totals.enrolments
    steps = [
        (_("Enrolled"), enrolled),
        (_("Attended enough"), totals.attended_enough),
        (_("Certified"), totals.certified),
    ]
    bars = tuple(
        Bar(label, n, _number(n), _("%(pct)s of enrolled", pct=_percent(_share(n, enrolled))))
        for label, n in steps
    )
    description = _(
        "Of %(enrolled)s enrolments, %(enough)s attended enough to meet their cohort's "
        "attendance threshold and %(certified)s hold a valid certificate.",
        enrolled=_number(enrolled),
        enough=_number(totals.attended_enough),
        certified=_number(totals.certified),
    )
    return Chart("funnel", _("Completion funnel"), description, bars, enrolled or 1, "funnel")


def _share(n: int, total: int) -> Decimal | None:
    return (Decimal(n * 100) / total).quantize(Decimal("0.1")) if total else None


def by_session(dashboard: Dashboard) -> Chart | None:
    if not dashboard.sessions:
        return None
    bars = tuple(
        Bar(
            s.label,
            s.turnout_pct or 0,
            f"{s.turnout_pct}%" if s.turnout_pct is not None else "–",
            _("%(attended)s of %(enrolled)s", attended=s.attended, enrolled=s.enrolled),
        )
        for s in dashboard.sessions
    )
    lowest = min(bars, key=lambda b: b.value)
    description = ngettext(
        "Share of the people on the roster who attended (present or late) the %(num)d "
        "session held, %(label)s: %(pct)s.",
        "Share of the people on the roster who attended (present or late) each of the "
        "%(num)d sessions held; the lowest was %(label)s with %(pct)s.",
        len(bars),
        label=lowest.label,
        pct=lowest.shown,
    )
    return Chart("sessions", _("Attendance by session"), description, bars, 100)


def dashboard_charts(dashboard: Dashboard) -> list[Chart]:
    """The charts of the dashboard and of the PDF report, in order."""
    charts = [by_country(dashboard), by_sex(dashboard), funnel(dashboard.totals)]
    sessions = by_session(dashboard)
    if sessions is not None:
        charts.append(sessions)
    return charts


# --------------------------------------------------------------------------- SVG


def svg(chart: Chart) -> Markup:
    """The chart as an accessible inline SVG element (described by its title and desc)."""
    height = TOP * 2 + len(chart.bars) * (BAR_H + GAP)
    top = Decimal(chart.top)
    span = WIDTH - LABEL_W - VALUE_W
    ident = f"chart-{chart.key}"
    parts = [
        f'<svg class="chart chart-{escape(chart.kind)}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{ident}-title {ident}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{ident}-title">{escape(chart.title)}</title>',
        f'<desc id="{ident}-desc">{escape(chart.description)}</desc>',
    ]
    for i, bar in enumerate(chart.bars):
        y = TOP + i * (BAR_H + GAP)
        width = 0 if top <= 0 else float(Decimal(bar.value) / top) * span
        label = bar.label if len(bar.label) <= 22 else bar.label[:21] + "…"
        parts.append(
            f'<g class="chart-row chart-row-{i % 6}">'
            f'<text class="chart-label" x="{LABEL_W - 8}" y="{y + BAR_H * 0.7:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
            f'<rect class="chart-track" x="{LABEL_W}" y="{y}" width="{span}" height="{BAR_H}"/>'
            f'<rect class="chart-bar" x="{LABEL_W}" y="{y}" width="{width:.1f}" '
            f'height="{BAR_H}"/>'
            f'<text class="chart-value" x="{LABEL_W + span + 6}" y="{y + BAR_H * 0.7:.1f}">'
            f"{escape(bar.shown)}</text></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


# --------------------------------------------------------------------------- PDF

# The bar colours of the PDF (the page's come from reports.css).
PDF_BAR = (0.13, 0.37, 0.62)
PDF_TRACK = (0.92, 0.94, 0.96)


def draw(canvas: Any, chart: Chart, x: float, y: float, width: float) -> float:
    """Draw ``chart`` with its top-left corner at (x, y) on a ReportLab canvas; return the
    height used. Text goes through the certificate fonts, so labels in any script print."""
    from reportlab.lib.colors import Color

    from trainingmgr.certificates.pdf import BOLD, REGULAR, draw_text

    ink = Color(0.1, 0.1, 0.1)
    size = 8.5
    bar_h, gap = 11.0, 4.0
    label_w = width * 0.36
    value_w = 54.0
    span = width - label_w - value_w - 8
    top = Decimal(chart.top)
    draw_text(canvas, x, y - 11, chart.title, BOLD, 10.5, ink, align="left", width=width)
    cursor = y - 20
    for bar in chart.bars:
        cursor -= bar_h
        draw_text(
            canvas,
            x + label_w - 6,
            cursor + 2.5,
            bar.label,
            REGULAR,
            size,
            ink,
            align="right",
            width=label_w - 8,
            minimum=5.5,
        )
        canvas.setFillColorRGB(*PDF_TRACK)
        canvas.rect(x + label_w, cursor, span, bar_h, stroke=0, fill=1)
        share = 0.0 if top <= 0 else float(Decimal(bar.value) / top)
        canvas.setFillColorRGB(*PDF_BAR)
        canvas.rect(x + label_w, cursor, span * min(share, 1.0), bar_h, stroke=0, fill=1)
        draw_text(
            canvas,
            x + label_w + span + 4,
            cursor + 2.5,
            bar.shown,
            REGULAR,
            size,
            ink,
            align="left",
            width=value_w,
        )
        cursor -= gap
    return y - cursor + 4


def pdf_height(chart: Chart) -> float:
    return 24 + len(chart.bars) * 15.0
