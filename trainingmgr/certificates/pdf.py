"""The certificate PDF: A4 landscape, drawn with ReportLab's canvas from the issued snapshot.

``render_certificate(snapshot, verification_url, logo)`` depends on nothing but its arguments
and renders identical bytes every time (ReportLab's invariant mode), so the SHA-256 shown on the
verification page identifies the file. The snapshot (see docs/certificates.md)::

    {"language": "en" | "ru" | "az" | "en+ru" | "en+az",
     "holder": {"name": "Ləman Əliyeva", "name_latin": "Laman Aliyeva" or None},
     "programme": {"code", "title", "partners": [str], "funders": [str]},
     "cohort": {"name", "place", "start_date": "2022-03-01", "end_date": "2022-03-12"},
     "hours": "24", "modules": [{"code", "title"}],
     "signatories": [{"name", "title"}], "serial": "RTCM-2022-0042",
     "issued_on": "2022-03-15"}

Fonts (Noto, OFL, in ``fonts/``) are registered once per process and embedded as subsets;
the holder's name is set in the font of its script, Arabic-script names shaped (uharfbuzz)
and right to left.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import segno
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, shapeStr
from reportlab.pdfgen.canvas import Canvas

FONT_DIR = Path(__file__).parent / "fonts"
PAGE_W, PAGE_H = landscape(A4)

# ------------------------------------------------------------------------------ fonts

SERIF, SERIF_BOLD, SERIF_ITALIC = "CertSerif", "CertSerif-Bold", "CertSerif-Italic"
_FONT_FILES = {
    SERIF: "NotoSerif-Regular.ttf",
    SERIF_BOLD: "NotoSerif-Bold.ttf",
    SERIF_ITALIC: "NotoSerif-Italic.ttf",
    "CertGeorgian": "NotoSerifGeorgian-Regular.ttf",
    "CertGeorgian-Bold": "NotoSerifGeorgian-Bold.ttf",
    "CertArmenian": "NotoSerifArmenian-Regular.ttf",
    "CertArmenian-Bold": "NotoSerifArmenian-Bold.ttf",
    "CertArabic": "NotoNaskhArabic-Regular.ttf",
    "CertArabic-Bold": "NotoNaskhArabic-Bold.ttf",
}
# (first, last code point, font family, right to left)
_SCRIPTS = (
    (0x0530, 0x058F, "CertArmenian", False),
    (0x10A0, 0x10FF, "CertGeorgian", False),
    (0x1C90, 0x1CBF, "CertGeorgian", False),
    (0x0600, 0x06FF, "CertArabic", True),
    (0x0750, 0x077F, "CertArabic", True),
    (0x08A0, 0x08FF, "CertArabic", True),
    (0xFB50, 0xFDFF, "CertArabic", True),
    (0xFE70, 0xFEFF, "CertArabic", True),
)
_registered = False
_lock = threading.Lock()


def register_fonts() -> None:
    """Register the certificate fonts with ReportLab (once per process)."""
    global _registered
    if _registered:
        return
    with _lock:
        if not _registered:
            for name, filename in _FONT_FILES.items():
                pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / filename)))
            _registered = True


def script_font(text: str, bold: bool = True) -> tuple[str, bool]:
    """The font for ``text`` (by the first letter of a script that needs its own font) and
    whether the text runs right to left."""
    for char in text:
        code = ord(char)
        for first, last, family, rtl in _SCRIPTS:
            if first <= code <= last:
                return (f"{family}-Bold" if bold else family), rtl
    return (SERIF_BOLD if bold else SERIF), False


# ------------------------------------------------------------------------------ labels

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Certificate of Completion",
        "certify": "This is to certify that",
        "completed": "has successfully completed",
        "hours": "{hours} hours",
        "modules": "Modules",
        "partners": "In partnership with",
        "funders": "Funded by",
        "serial": "Certificate no.",
        "issued": "Issued on",
        "verify": "Verify at",
    },
    "ru": {
        "title": "Сертификат об окончании",
        "certify": "Настоящим удостоверяется, что",
        "completed": "успешно завершил(а) программу",
        "hours": "{hours} ч.",
        "modules": "Модули",
        "partners": "В партнёрстве с",
        "funders": "При финансовой поддержке",
        "serial": "Сертификат №",
        "issued": "Выдан",
        "verify": "Проверка",
    },
    "az": {
        "title": "Bitirmə sertifikatı",
        "certify": "Bununla təsdiq edilir ki,",
        "completed": "proqramını uğurla başa vurmuşdur",
        "hours": "{hours} saat",
        "modules": "Modullar",
        "partners": "Tərəfdaşlar",
        "funders": "Maliyyələşdirən",
        "serial": "Sertifikat №",
        "issued": "Verilmə tarixi",
        "verify": "Yoxlama",
    },
}
_MONTHS = {
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    "ru": [
        "января",
        "февраля",
        "марта",
        "апреля",
        "мая",
        "июня",
        "июля",
        "августа",
        "сентября",
        "октября",
        "ноября",
        "декабря",
    ],
    "az": [
        "yanvar",
        "fevral",
        "mart",
        "aprel",
        "may",
        "iyun",
        "iyul",
        "avqust",
        "sentyabr",
        "oktyabr",
        "noyabr",
        "dekabr",
    ],
}


def languages(code: str) -> list[str]:
    """``"en+az"`` -> ``["en", "az"]``; unknown languages fall back to English."""
    found = [p for p in (code or "en").split("+") if p in _LABELS]
    return found or ["en"]


def label(langs: list[str], key: str, sep: str = " / ", **kw: Any) -> str:
    return sep.join(_LABELS[lang][key].format(**kw) for lang in langs)


def upper(text: str, lang: str) -> str:
    """Capitals as the language writes them (Azerbaijani: i -> İ, not I)."""
    return (text.replace("i", "İ") if lang == "az" else text).upper()


def fmt_day(value: str | date, lang: str) -> str:
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return f"{day.day} {_MONTHS[lang][day.month - 1]} {day.year}"


def fmt_period(start: str | date | None, end: str | date | None, lang: str) -> str:
    """``1–12 March 2022``, ``28 February – 4 March 2022``, or one day."""
    if not start:
        return fmt_day(end, lang) if end else ""
    first = start if isinstance(start, date) else date.fromisoformat(start)
    last = (end if isinstance(end, date) else date.fromisoformat(end)) if end else first
    if first == last:
        return fmt_day(first, lang)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{fmt_day(last, lang)}"
    if first.year == last.year:
        return f"{first.day} {_MONTHS[lang][first.month - 1]} – {fmt_day(last, lang)}"
    return f"{fmt_day(first, lang)} – {fmt_day(last, lang)}"


# ------------------------------------------------------------------------------ drawing

INK = Color(0.11, 0.15, 0.25)  # deep navy
MUTED = Color(0.36, 0.39, 0.45)
GOLD = Color(0.69, 0.55, 0.28)
MARGIN = 28


def fit_size(text: str, font: str, size: float, width: float, minimum: float = 7) -> float:
    """The largest size up to ``size`` at which ``text`` fits ``width``."""
    measured = pdfmetrics.stringWidth(text, font, size)
    if measured <= width:
        return size
    return max(minimum, size * width / measured)


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and pdfmetrics.stringWidth(candidate, font, size) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines


def balanced(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` on one line if it fits, else on two lines of similar width."""
    words = text.split()
    if pdfmetrics.stringWidth(text, font, size) <= width or len(words) < 2:
        return [text] if text else []

    def widest(i: int) -> float:
        return max(
            pdfmetrics.stringWidth(" ".join(part), font, size) for part in (words[:i], words[i:])
        )

    best = min(range(1, len(words)), key=widest)
    return [" ".join(words[:best]), " ".join(words[best:])]


def centred(
    c: Canvas,
    y: float,
    text: str,
    font: str,
    size: float,
    colour: Color = INK,
    width: float = PAGE_W - 2 * 90,
) -> float:
    """Draw ``text`` centred at ``y``, shrunk to fit ``width``; return the size used."""
    if not text:
        return 0
    size = fit_size(text, font, size, width)
    c.setFont(font, size)
    c.setFillColor(colour)
    c.drawCentredString(PAGE_W / 2, y, text)
    return size


def draw_name(c: Canvas, y: float, name: str, size: float = 34) -> None:
    """The holder's name in its script's font; Arabic script shaped, right to left."""
    font, rtl = script_font(name)
    width = PAGE_W - 2 * 110
    c.setFillColor(INK)
    if rtl:
        # HarfBuzz picks the script's direction: the glyphs come back shaped, in visual order.
        size = fit_size(name, font, size * 0.9, width)
        shaped = shapeStr(name, font, size)
        advance = sum(d.x_advance for d in getattr(shaped, "__shapeData__", [])) * size / 1000
        advance = advance or pdfmetrics.stringWidth(name, font, size)
        c.setFont(font, size)
        c.drawString((PAGE_W - advance) / 2, y, shaped)
    else:
        centred(c, y, name, font, size, width=width)


def draw_border(c: Canvas) -> None:
    c.setStrokeColor(GOLD)
    c.setLineWidth(2.2)
    c.rect(MARGIN, MARGIN, PAGE_W - 2 * MARGIN, PAGE_H - 2 * MARGIN)
    c.setLineWidth(0.6)
    inset = MARGIN + 6
    c.rect(inset, inset, PAGE_W - 2 * inset, PAGE_H - 2 * inset)
    # Small diamonds in the corners of the inner frame.
    c.setFillColor(GOLD)
    for x in (inset, PAGE_W - inset):
        for y in (inset, PAGE_H - inset):
            p = c.beginPath()
            p.moveTo(x, y - 5)
            p.lineTo(x + 5, y)
            p.lineTo(x, y + 5)
            p.lineTo(x - 5, y)
            p.close()
            c.drawPath(p, stroke=0, fill=1)


def ornament(c: Canvas, y: float, half: float = 60) -> None:
    """A thin gold rule with a diamond in its middle."""
    mid = PAGE_W / 2
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.7)
    c.line(mid - half, y, mid - 6, y)
    c.line(mid + 6, y, mid + half, y)
    c.setFillColor(GOLD)
    p = c.beginPath()
    p.moveTo(mid, y - 3)
    p.lineTo(mid + 3, y)
    p.lineTo(mid, y + 3)
    p.lineTo(mid - 3, y)
    p.close()
    c.drawPath(p, stroke=0, fill=1)


def qr_runs(data: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR code of ``data`` as (size in modules, dark runs (row, first column, length)).

    The mask is fixed: searching the best one is most of segno's time, and any mask decodes.
    """
    matrix = [
        list(row) for row in segno.make(data, error="m", mask=4, micro=False).matrix_iter(border=0)
    ]
    runs = []
    for r, row in enumerate(matrix):
        col = 0
        while col < len(row):
            if row[col]:
                start = col
                while col < len(row) and row[col]:
                    col += 1
                runs.append((r, start, col - start))
            else:
                col += 1
    return len(matrix), runs


def draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code as one filled path of rectangles, ``(x, y)`` its bottom-left corner."""
    count, runs = qr_runs(data)
    module = size / count
    path = c.beginPath()
    for row, col, length in runs:
        path.rect(x + col * module, y + size - (row + 1) * module, length * module, module)
    c.setFillColor(Color(0, 0, 0))
    c.drawPath(path, stroke=0, fill=1)


def draw_logo(c: Canvas, logo: bytes, x: float, top: float, max_w: float, max_h: float) -> None:
    image = ImageReader(io.BytesIO(logo))
    w, h = image.getSize()
    scale = min(max_w / w, max_h / h)
    c.drawImage(image, x, top - h * scale, w * scale, h * scale, mask="auto")


def _names(items: Iterable[Any]) -> str:
    return " · ".join(str(i) for i in items if i)


def draw_signatories(c: Canvas, signatories: list[dict[str, str]], y: float) -> None:
    """Signature lines with names and titles, spread across the middle of the page."""
    shown = signatories[:3]
    if not shown:
        return
    span = 560
    slot = span / len(shown)
    left = (PAGE_W - span) / 2
    for i, person in enumerate(shown):
        mid = left + slot * (i + 0.5)
        c.setStrokeColor(MUTED)
        c.setLineWidth(0.5)
        c.line(mid - slot * 0.38, y, mid + slot * 0.38, y)
        name = person.get("name", "")
        font, _rtl = script_font(name, bold=True)
        c.setFillColor(INK)
        c.setFont(font, fit_size(name, font, 10, slot * 0.8))
        c.drawCentredString(mid, y - 13, name)
        title = person.get("title", "")
        c.setFillColor(MUTED)
        c.setFont(SERIF_ITALIC, fit_size(title, SERIF_ITALIC, 8.5, slot * 0.8))
        c.drawCentredString(mid, y - 25, title)


def render_certificate(
    snapshot: dict[str, Any], verification_url: str, logo: bytes | None
) -> bytes:
    """The certificate's PDF (identical bytes for identical arguments)."""
    register_fonts()
    langs = languages(snapshot.get("language", "en"))
    holder = snapshot.get("holder", {})
    programme = snapshot.get("programme", {})
    cohort = snapshot.get("cohort", {})

    buf = io.BytesIO()
    c = Canvas(
        buf,
        pagesize=(PAGE_W, PAGE_H),
        invariant=1,
        pageCompression=1,
        initialFontName=SERIF,  # no unembedded Helvetica in the page's resources
        initialFontSize=10,
    )
    c.setTitle(f"{label(langs[:1], 'title')} {snapshot.get('serial', '')}".strip())
    c.setAuthor(_names(programme.get("partners", [])) or programme.get("title", ""))
    c.setSubject(holder.get("name", ""))
    c.setCreator("trainingmgr")

    draw_border(c)
    if logo:
        draw_logo(c, logo, MARGIN + 22, PAGE_H - MARGIN - 18, 110, 52)

    partners = programme.get("partners", [])
    y = PAGE_H - 84
    if partners:
        centred(c, y, _names(partners).upper(), SERIF, 8.5, MUTED, width=PAGE_W - 2 * 180)
    y -= 58
    centred(c, y, upper(_LABELS[langs[0]]["title"], langs[0]), SERIF_BOLD, 28)
    if len(langs) > 1:
        y -= 22
        centred(c, y, upper(_LABELS[langs[1]]["title"], langs[1]), SERIF, 14, MUTED)
    ornament(c, y - 16)

    y -= 52
    centred(c, y, label(langs, "certify", sep="  ·  "), SERIF_ITALIC, 12, MUTED)
    y -= 50
    draw_name(c, y, holder.get("name", ""))
    latin = holder.get("name_latin")
    if latin and latin != holder.get("name"):
        y -= 24
        centred(c, y, latin, SERIF_ITALIC, 12, MUTED)
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.5)
    c.line(PAGE_W / 2 - 190, y - 16, PAGE_W / 2 + 190, y - 16)

    y -= 42
    centred(c, y, label(langs, "completed", sep="  ·  "), SERIF_ITALIC, 12, MUTED)
    y -= 32
    for line in balanced(programme.get("title", ""), SERIF_BOLD, 18, PAGE_W - 220):
        centred(c, y, line, SERIF_BOLD, 18)
        y -= 22

    period = " / ".join(
        fmt_period(cohort.get("start_date"), cohort.get("end_date"), lang) for lang in langs
    )
    hours = snapshot.get("hours")
    facts = [cohort.get("name", ""), cohort.get("place", ""), period]
    if hours:
        facts.append(label(langs, "hours", hours=hours))
    y -= 4
    centred(c, y, "  ·  ".join(f for f in facts if f), SERIF, 10.5, INK)

    modules = snapshot.get("modules", [])
    if modules:
        text = (
            label(langs, "modules")
            + ": "
            + "; ".join(" ".join(p for p in (m.get("code"), m.get("title")) if p) for m in modules)
        )
        y -= 16
        for line in wrap(text, SERIF, 8, PAGE_W - 260)[:3]:
            centred(c, y, line, SERIF, 8, MUTED)
            y -= 11

    draw_signatories(c, snapshot.get("signatories", []), 140)

    # Footer: funders in the middle, serial and date on the left, the QR code on the right.
    funders = programme.get("funders", [])
    if funders:
        centred(
            c,
            68,
            f"{label(langs, 'funders')}: {_names(funders)}",
            SERIF,
            8,
            MUTED,
            width=PAGE_W - 2 * 200,
        )
    left = MARGIN + 26
    c.setFillColor(INK)
    c.setFont(SERIF_BOLD, 9)
    c.drawString(left, 84, f"{label(langs, 'serial')} {snapshot.get('serial', '')}")
    if snapshot.get("issued_on"):
        c.setFont(SERIF, 8)
        c.setFillColor(MUTED)
        issued = " / ".join(fmt_day(snapshot["issued_on"], lang) for lang in langs)
        c.drawString(left, 72, f"{label(langs, 'issued')}: {issued}")
    qr_size = 62
    qr_x = PAGE_W - MARGIN - 24 - qr_size
    draw_qr(c, verification_url, qr_x, 72, qr_size)
    c.setFont(SERIF, 6.5)
    c.setFillColor(MUTED)
    c.drawRightString(PAGE_W - MARGIN - 24, 62, f"{label(langs[:1], 'verify')}: {verification_url}")

    c.showPage()
    c.save()
    return buf.getvalue()
