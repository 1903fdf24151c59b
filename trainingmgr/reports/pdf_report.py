"""The donor report as a PDF (A4, ReportLab): the programme's logo, its funders, the key
figures, the charts and the tables, then how each figure is counted. Its text is set in the
certificate fonts, so names in every script print; table headers wrap (and long words are
hyphenated) to fit their columns in every language. The texts are ``export``'s, shared with
the workbook.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _

from trainingmgr.reports import charts
from trainingmgr.reports.export import (
    breakdown_tables,
    definitions,
    session_table,
    subtitle_lines,
    title_text,
)
from trainingmgr.reports.sections import Content, Table
from trainingmgr.reports.services import Dashboard, fmt_value, headline

MARGIN = 40.0


class _Pdf:
    """A4 pages filled from the top, with a page number at the foot of each."""

    def __init__(self, title: str) -> None:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen.canvas import Canvas

        from trainingmgr.certificates.pdf import register_fonts

        register_fonts()
        self.out = io.BytesIO()
        self.width, self.height = A4
        self.canvas = Canvas(self.out, pagesize=A4, pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setAuthor("trainingmgr")
        self.title = title
        self.y = self.height - MARGIN
        self.inner = self.width - 2 * MARGIN

    def text(
        self,
        text: str,
        size: float = 9.5,
        style: str = "regular",
        *,
        x: float = 0,
        width: float | None = None,
        align: str = "left",
        grey: bool = False,
    ) -> None:
        from reportlab.lib.colors import Color

        from trainingmgr.certificates.pdf import draw_text

        colour = Color(0.35, 0.38, 0.45) if grey else Color(0.1, 0.12, 0.2)
        draw_text(
            self.canvas,
            MARGIN + x,
            self.y,
            text,
            style,
            size,
            colour,
            width=width or self.inner - x,
            align=align,
            minimum=5,
        )

    def down(self, amount: float) -> None:
        self.y -= amount

    def need(self, height: float) -> None:
        if self.y - height < MARGIN + 20:
            self.new_page()

    def footer(self) -> None:
        from reportlab.lib.colors import Color

        from trainingmgr.certificates.pdf import draw_text

        draw_text(
            self.canvas,
            self.width - MARGIN,
            MARGIN - 10,
            _("Page %(n)s", n=self.canvas.getPageNumber()),
            "regular",
            8,
            Color(0.35, 0.38, 0.45),
            align="right",
        )
        draw_text(
            self.canvas,
            MARGIN,
            MARGIN - 10,
            self.title,
            "regular",
            8,
            Color(0.35, 0.38, 0.45),
            align="left",
            width=self.inner - 60,
            minimum=5,
        )

    def new_page(self) -> None:
        self.footer()
        self.canvas.showPage()
        self.y = self.height - MARGIN

    def heading(self, text: str) -> None:
        self.need(60)
        self.down(24)
        self.text(text, 12.5, "bold")
        self.down(6)

    def paragraph(self, text: str, size: float = 8.5, grey: bool = True) -> None:
        """``text`` wrapped to the width of the page, one line under the other."""
        from trainingmgr.certificates.pdf import wrap

        for line in wrap(text, "regular", size, self.inner):
            self.need(size + 4)
            self.down(size + 3)
            self.text(line, size, grey=grey)

    def table(self, table: Table, first_width: float = 0.34) -> None:
        """A table with its header (``header_layout``), repeated on every page it runs onto;
        a name too long for the first column takes two lines."""
        from reportlab.lib.colors import Color

        widths = column_widths(len(table.header), self.inner, first_width)
        size, labels = header_layout(table.header, widths)
        line_h = size + 1.5
        depth = max(len(lines) for lines in labels)
        header_h = depth * line_h + 8

        def cells(values: Sequence[Any], size: float, style: str, baseline: float) -> None:
            x = 0.0
            for i, value in enumerate(values):
                if i == 0:
                    at, align = x + 3, "left"
                else:
                    at, align = x + widths[i] - 3, "right"
                y, self.y = self.y, baseline
                self.text(str(value), size, style, x=at, width=widths[i] - 6, align=align)
                self.y = y
                x += widths[i]

        def header() -> None:
            top = self.y
            self.canvas.setFillColor(Color(0.9, 0.92, 0.95))
            self.canvas.rect(MARGIN, top - header_h, self.inner, header_h, 0, 1)
            for k in range(depth):  # bottom-aligned: the last lines of every label in a row
                line = [
                    lines[k - depth + len(lines)] if k >= depth - len(lines) else ""
                    for lines in labels
                ]
                cells(line, size, "bold", top - (k + 1) * line_h - 2)
            self.y = top - header_h

        self.need(header_h + 13 * 2)
        header()
        for r, row in enumerate(table.rows):
            names = name_lines(row[0], widths[0] - 6)
            row_h = 13.0 if len(names) == 1 else 20.0
            if self.y - row_h < MARGIN + 20:
                self.new_page()
                header()
            if r % 2:
                self.canvas.setFillColor(Color(0.96, 0.965, 0.975))
                self.canvas.rect(MARGIN, self.y - row_h, self.inner, row_h, stroke=0, fill=1)
            cells(["", *row[1:]], 8, "regular", self.y - row_h + 3.5)
            for k, name in enumerate(names):
                cells([name], 8 if len(names) == 1 else 7, "regular", self.y - 9.5 - k * 8)
            self.down(row_h)
        self.down(4)

    def chart(self, chart: charts.Chart) -> None:
        height = charts.pdf_height(chart)
        self.need(height + 10)
        used = charts.draw(self.canvas, chart, MARGIN, self.y, self.inner)
        self.down(used + 6)

    def logo(self, data: bytes) -> float:
        """Draw a logo at the top right; return its width (0 when it cannot be read)."""
        from PIL import Image
        from reportlab.lib.utils import ImageReader

        from trainingmgr.certificates.pdf import eight_bit

        try:
            picture = Image.open(io.BytesIO(data))
            picture.load()  # decoded now: a broken image is left out, the report is not
            image = ImageReader(eight_bit(picture).convert("RGBA"))
            w, h = image.getSize()
        except Exception:  # noqa: BLE001 (Pillow raises many kinds of errors)
            return 0
        box_h = 54.0
        box_w = min(150.0, box_h * w / h if h else box_h)
        self.canvas.drawImage(
            image,
            self.width - MARGIN - box_w,
            self.y - box_h + 10,
            box_w,
            box_h,
            preserveAspectRatio=True,
            anchor="ne",
            mask="auto",
        )
        return box_w

    def save(self) -> bytes:
        self.footer()
        self.canvas.save()
        return self.out.getvalue()


HEADER_SIZES = (7.0, 6.5, 6.0, 5.5)  # a table's header labels: the largest that fits


def column_widths(n: int, inner: float, first_width: float = 0.34) -> list[float]:
    """The widths of a PDF table's ``n`` columns: the first (names) and the figures."""
    if n > 9:  # many figures: a narrower first column leaves room for their labels
        first_width = min(first_width, 0.3)
    first = inner * first_width if n > 2 else inner * 0.6
    rest = (inner - first) / max(n - 1, 1)
    return [first, *([rest] * (n - 1))]


_VOWELS = frozenset("aeiouyаеёиоуыэюяəıöüAEIOUYАЕЁИОУЫЭЮЯƏIÖÜ")


def _pieces(word: str, size: float, width: float) -> list[str]:
    """``word`` cut to fit ``width``: at its own hyphens first ("Человеко-", "часы"), then
    with a hyphen after a vowel that a consonant follows ("посещае-", "мость"), keeping
    three letters at least on either side."""
    from trainingmgr.certificates.pdf import text_width

    def fits(text: str) -> bool:
        return text_width(text, "bold", size) <= width

    if fits(word):
        return [word]
    head, hyphen, tail = word.partition("-")
    if hyphen and tail:
        return [*_pieces(head + "-", size, width), *_pieces(tail, size, width)]
    cuts = [c for c in range(len(word) - 3, 2, -1) if fits(word[:c] + "-")]
    syllables = [c for c in cuts if word[c - 1] in _VOWELS and word[c] not in _VOWELS]
    for cut in syllables or cuts:
        return [word[:cut] + "-", *_pieces(word[cut:], size, width)]
    return [word]  # draw_text shrinks it


def header_layout(header: Sequence[Any], widths: Sequence[float]) -> tuple[float, list[list[str]]]:
    """The size of a table's header labels, the largest at which every word fits its column
    (a word that fits at none is cut), and each label's lines at that size."""
    from trainingmgr.certificates.pdf import text_width, wrap

    columns = list(zip((str(h) for h in header), widths, strict=True))
    size = next(
        (
            size
            for size in HEADER_SIZES
            if all(
                text_width(w, "bold", size) <= width - 6 for h, width in columns for w in h.split()
            )
        ),
        6.0,  # a word that fits at none is cut (and smaller is hard to read)
    )
    return size, [
        [
            piece
            for line in wrap(h, "bold", size, width - 6)
            for piece in _pieces(line, size, width - 6)
        ]
        for h, width in columns
    ]


def name_lines(value: Any, width: float) -> list[str]:
    """A table row's name on one line at 8 pt, or on two at 7 pt when it is longer."""
    from trainingmgr.certificates.pdf import text_width, wrap

    text = str(value)
    if text_width(text, "regular", 8) <= width:
        return [text]
    lines = wrap(text, "regular", 7, width)
    return lines if len(lines) <= 2 else [lines[0], " ".join(lines[1:])]


def pdf(dashboard: Dashboard, extra: Sequence[Content] = ()) -> bytes:
    """The donor report as a PDF (see the module docstring)."""
    doc = _Pdf(f"{_('Donor report')}: {title_text(dashboard)}")
    _pdf_title(doc, dashboard)
    if dashboard.empty_note:
        doc.paragraph(dashboard.empty_note, 10, grey=False)
        doc.down(6)
    _pdf_key_figures(doc, dashboard)
    if dashboard.cohorts:  # no empty charts and tables
        _pdf_charts_and_tables(doc, dashboard)
    for content in extra:
        _pdf_section(doc, content)
    doc.heading(_("Definitions"))
    for line in definitions():
        doc.paragraph(line)
    return doc.save()


def _pdf_charts_and_tables(doc: _Pdf, dashboard: Dashboard) -> None:
    doc.heading(_("Charts"))
    for chart in charts.dashboard_charts(dashboard):
        doc.chart(chart)
    for table in breakdown_tables(dashboard):
        doc.heading(table.title)
        doc.table(table)
    sessions = session_table(dashboard)
    if sessions is not None:
        doc.heading(sessions.title)
        doc.table(sessions, 0.55)


def _pdf_title(doc: _Pdf, dashboard: Dashboard) -> None:
    """The title, the selection in words and the organisation's logo on the right."""
    logo = report_logo(dashboard)
    logo_w = doc.logo(logo) if logo else 0.0
    room = doc.inner - (logo_w + 12 if logo_w else 0)
    doc.down(8)
    doc.text(_("Donor report"), 18, "bold", width=room)
    doc.down(18)
    doc.text(title_text(dashboard), 11.5, "bold", width=room)
    for line in subtitle_lines(dashboard):
        doc.down(14)
        doc.text(line, 9, grey=True, width=room)
    doc.down(12)


def _pdf_key_figures(doc: _Pdf, dashboard: Dashboard) -> None:
    """The headline figures, two a row: value, label, detail."""
    doc.heading(_("Key figures"))
    items = headline(dashboard.totals, len(dashboard.cohorts))
    half = doc.inner / 2
    for i in range(0, len(items), 2):
        doc.need(48)
        doc.down(16)
        for j, item in enumerate(items[i : i + 2]):
            doc.text(fmt_value(item.value, item.kind), 15, "bold", x=j * half, width=half - 10)
        doc.down(13)
        for j, item in enumerate(items[i : i + 2]):
            doc.text(str(item.label), 8.5, "bold", x=j * half, width=half - 10)
        doc.down(11)
        for j, item in enumerate(items[i : i + 2]):
            doc.text(str(item.detail), 7.5, x=j * half, width=half - 10, grey=True)
        doc.down(6)


def _pdf_section(doc: _Pdf, content: Content) -> None:
    """A section another domain adds (``reports.sections``): note, figures, charts, tables."""
    doc.heading(content.title)
    if content.note:
        doc.paragraph(content.note)
    for label, value in content.figures:
        doc.need(14)
        doc.text(str(label), 9)
        doc.text(str(value), 9, "bold", x=doc.inner * 0.6, width=doc.inner * 0.4)
        doc.down(13)
    for chart in content.charts:
        doc.chart(chart)
    for table in content.tables:
        doc.need(60)
        doc.down(16)
        doc.text(table.title, 10, "bold")
        doc.down(6)
        doc.table(table)


def report_logo(dashboard: Dashboard) -> bytes | None:
    """The programme's logo when the report is about one programme that has one, else the
    organisation's."""
    from trainingmgr.organisation.services import get_settings

    if len(dashboard.programmes) == 1 and dashboard.programmes[0].logo:
        return dashboard.programmes[0].logo
    return get_settings().logo
