"""The certificate's page: ``render_certificate`` puts every part in its place."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from typing import Any

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen.canvas import Canvas

from trainingmgr.certificates.pdf.band import draw_funders_band
from trainingmgr.certificates.pdf.base import PAGE_H, PAGE_W
from trainingmgr.certificates.pdf.drawing import (
    GOLD,
    INK,
    MARGIN,
    MUTED,
    NAME_WIDTH,
    SIGNATURE_LINE_Y,
    SIGNATURE_MAX_H,
    balanced,
    centred,
    draw_border,
    draw_signatories,
    draw_text,
    joined_names,
    name_lines,
    ornament,
    static,
    wrap,
)
from trainingmgr.certificates.pdf.fonts import (
    BOLD,
    CURRENT,
    ITALIC,
    REGULAR,
    SERIF,
    Typesetting,
    register_fonts,
    text_width,
)
from trainingmgr.certificates.pdf.images import _image, draw_image
from trainingmgr.certificates.pdf.labels import (
    _LABELS,
    fmt_day,
    fmt_period,
    label,
    languages,
    upper,
)
from trainingmgr.certificates.pdf.qr import draw_qr


def _canvas(
    buf: io.BytesIO, snapshot: dict[str, Any], langs: list[str], *, dated: bool = True
) -> Canvas:
    """The canvas, with the document's metadata (dated the day of issue when ``dated``)."""
    holder = snapshot.get("holder") or {}
    programme = snapshot.get("programme") or {}
    issuer = (snapshot.get("issuer") or {}).get("name") or ""
    c = Canvas(
        buf,
        pagesize=(PAGE_W, PAGE_H),
        invariant=1,
        pageCompression=1,
        initialFontName=SERIF,  # no unembedded Helvetica in the page's resources
        initialFontSize=10,
    )
    c.setTitle(f"{label(langs[:1], 'title')} {snapshot.get('serial', '')}".strip())
    c.setAuthor(issuer or joined_names(programme.get("partners", [])) or programme.get("title", ""))
    c.setSubject(str(holder.get("name") or ""))
    c.setCreator("trainingmgr")
    issued_on = str(snapshot.get("issued_on") or "")
    if dated and issued_on:  # the metadata dates are the date of issue
        stamp = f"D:{issued_on.replace('-', '')}000000Z"
        c.setDateFormatter(lambda *_args: stamp)
    return c


def draw_border_and_logo(c: Canvas, logo: Any) -> None:
    """The gold border, and the logo (if any) in the top left corner."""
    static(c, draw_border)
    if logo is not None:
        draw_image(c, logo, MARGIN + 22, PAGE_H - MARGIN - 18 - 52, 110, 52, anchor="nw")


def _heading(c: Canvas, snapshot: dict[str, Any], langs: list[str], logo: Any) -> float:
    """Border, logo, issuer, partners and the title; the height reached."""
    programme = snapshot.get("programme") or {}
    issuer = (snapshot.get("issuer") or {}).get("name") or ""
    draw_border_and_logo(c, logo)

    # The issuing organisation, then the partners.
    partners = programme.get("partners", [])
    if issuer:
        _issuer(c, issuer.upper())
    if partners:
        text = f"{label(langs, 'partners')}: {joined_names(partners)}"
        centred(c, PAGE_H - 88, text, REGULAR, 8, MUTED, width=PAGE_W - 2 * 180)
    return draw_title(c, langs)


ISSUER_WIDTH = PAGE_W - 2 * 180  # clear of the logo


def _issuer(c: Canvas, issuer: str) -> None:
    """The issuing organisation at 10.5 pt, shrunk down to 7 pt to fit one line; a longer
    name takes two balanced lines, shrunk as far as needed: it never runs over the logo or
    past the border."""
    if text_width(issuer, BOLD, 7) <= ISSUER_WIDTH:
        centred(c, PAGE_H - 72, issuer, BOLD, 10.5, INK, width=ISSUER_WIDTH)
        return
    for j, line in enumerate(balanced(issuer, BOLD, 8.5, 0)):
        centred(c, PAGE_H - 65 - 11 * j, line, BOLD, 8.5, INK, width=ISSUER_WIDTH, minimum=1)


def draw_title(c: Canvas, langs: list[str], setting: Typesetting = CURRENT) -> float:
    """ "CERTIFICATE OF COMPLETION" in the first language (and smaller in the second) over
    an ornament; the height of the last line."""
    y = PAGE_H - 142
    title = upper(_LABELS[langs[0]]["title"], langs[0])
    centred(c, y, title, BOLD, 28, setting=setting)
    if len(langs) > 1:
        y -= 22
        title = upper(_LABELS[langs[1]]["title"], langs[1])
        centred(c, y, title, REGULAR, 14, MUTED, setting=setting)
    static(c, ornament, y - 16)
    return y


def _holder(c: Canvas, y: float, holder: dict[str, Any], langs: list[str]) -> float:
    """ "This certifies that", the holder's name (and its Latin spelling) over a gold rule."""
    y -= 48
    centred(c, y, label(langs, "certify", sep="  ·  "), ITALIC, 12, MUTED)
    name = str(holder.get("name") or "")
    lines, size = name_lines(name)
    y -= 16 + size
    widest = 0.0
    for i, line in enumerate(lines):
        if i:
            y -= size * 1.12
        centred(c, y, line, BOLD, size, width=NAME_WIDTH, minimum=1)
        widest = max(widest, text_width(line, BOLD, size))
    latin = holder.get("name_latin")
    if latin and latin != name:
        y -= 22
        centred(c, y, str(latin), ITALIC, 12, MUTED)
    # The rule under the name follows its width (between 120 and the text's width).
    half = min(NAME_WIDTH, max(240.0, widest + 40)) / 2
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.5)
    c.line(PAGE_W / 2 - half, y - 14, PAGE_W / 2 + half, y - 14)
    return y


def draw_course(
    c: Canvas,
    y: float,
    snapshot: dict[str, Any],
    langs: list[str],
    *,
    gaps: tuple[float, float, float] = (38, 28, 2),
    agree: bool = True,
    setting: Typesetting = CURRENT,
) -> float:
    """ "has completed" (agreeing with the holder's sex when ``agree``), the programme's
    title, then the cohort, place, period and hours; the height of that last line. ``gaps``:
    the space above each of the three parts."""
    holder = snapshot.get("holder") or {}
    programme = snapshot.get("programme") or {}
    sex = str(holder.get("sex") or "") if agree else ""
    completed = label(langs, "completed", sep="  ·  ", sex=sex)
    y -= gaps[0]
    centred(c, y, completed, ITALIC, 12, MUTED, setting=setting)
    y -= gaps[1]
    title = str(programme.get("title") or "")
    for line in balanced(title, BOLD, 18, PAGE_W - 220, setting):
        centred(c, y, line, BOLD, 18, setting=setting)
        y -= 22
    y -= gaps[2]
    centred(c, y, _facts(snapshot, langs), REGULAR, 10.5, INK, setting=setting)
    return y


def _facts(snapshot: dict[str, Any], langs: list[str]) -> str:
    """The cohort's name, place and period, and the hours, on one line."""
    cohort = snapshot.get("cohort") or {}
    period = " / ".join(
        fmt_period(cohort.get("start_date"), cohort.get("end_date"), lang) for lang in langs
    )
    hours = snapshot.get("hours")
    facts = [cohort.get("name", ""), cohort.get("place", ""), period]
    if hours:
        facts.append(label(langs, "hours", hours=hours))
    return "  ·  ".join(str(f) for f in facts if f)


def modules_text(modules: list[dict[str, Any]], langs: list[str]) -> str:
    """ "Modules: M1 Title; M2 Title" """
    return (
        label(langs, "modules")
        + ": "
        + "; ".join(" ".join(p for p in (m.get("code"), m.get("title")) if p) for m in modules)
    )


def _modules(c: Canvas, y: float, modules: list[dict[str, Any]], langs: list[str]) -> float:
    """The modules attended, in as many lines (at most 3) as fit above the signatories'
    names and titles, smaller letters before a line is squeezed; the lowest line drawn."""
    lowest = y
    if not modules:
        return lowest
    text = modules_text(modules, langs)
    y -= 15
    room_lines = max(1, min(3, int((y - (SIGNATURE_LINE_Y + 14)) // 10.5) + 1))
    for size in (8, 7.5, 7, 6.5, 6):
        lines_m = wrap(text, REGULAR, size, PAGE_W - 200)
        if len(lines_m) <= room_lines:
            break
    if len(lines_m) > room_lines:
        lines_m = lines_m[: room_lines - 1] + [" ".join(lines_m[room_lines - 1 :])]
    for line in lines_m:
        centred(c, y, line, REGULAR, size, MUTED, width=PAGE_W - 200, minimum=1)
        lowest = y
        y -= size + 2.5
    return lowest


# The footer's columns: serial, date and code on the left, funders in the middle, the QR code
# and its address on the right.
_FOOTER_LEFT = MARGIN + 26
_FOOTER_COLUMN = 215


def _footer_left(c: Canvas, snapshot: dict[str, Any], langs: list[str], code: str) -> None:
    left, column = _FOOTER_LEFT, _FOOTER_COLUMN
    serial = f"{label(langs, 'serial')} {snapshot.get('serial', '')}"
    draw_text(c, left, 88, serial, BOLD, 9, INK, align="left", width=column)
    issued_on = str(snapshot.get("issued_on") or "")
    if issued_on:
        issued = " / ".join(fmt_day(issued_on, lang) for lang in langs)
        text = f"{label(langs, 'issued')}: {issued}"
        draw_text(c, left, 76, text, REGULAR, 8, MUTED, align="left", width=column)
    draw_text(
        c, left, 64, f"{label(langs, 'code')}: {code}", BOLD, 8, INK, align="left", width=column
    )


def _footer_funders(
    c: Canvas, snapshot: dict[str, Any], langs: list[str], images: Mapping[str, bytes]
) -> None:
    """The funders' band (logos, the EU emblem) or, without logos, their names."""
    programme = snapshot.get("programme") or {}
    left, column = _FOOTER_LEFT, _FOOTER_COLUMN
    funders = programme.get("funders", [])
    funding = [f for f in snapshot.get("funding") or [] if isinstance(f, dict)]
    middle = PAGE_W - 2 * (left + column + 16)
    if any(f.get("logo") or f.get("eu") for f in funding):
        draw_funders_band(c, funding, langs, images, left + column + 16, middle)
    elif funders:
        centred(c, 88, f"{label(langs, 'funders')}:", REGULAR, 8, MUTED, width=middle)
        for i, line in enumerate(wrap(joined_names(funders), BOLD, 9, middle)[:3]):
            centred(c, 76 - 12 * i, line, BOLD, 9, INK, width=middle)


def draw_footer_verify(
    c: Canvas,
    verification_url: str,
    langs: list[str],
    width: float | None = _FOOTER_COLUMN,
    setting: Typesetting = CURRENT,
) -> None:
    """The QR code, and the verification address under it (shrunk to ``width``)."""
    qr_size = 62
    qr_x = PAGE_W - MARGIN - 24 - qr_size
    draw_qr(c, verification_url, qr_x, 72, qr_size)
    verify = f"{label(langs[:1], 'verify')}: {verification_url}"
    draw_text(
        c,
        PAGE_W - MARGIN - 24,
        62,
        verify,
        REGULAR,
        6.5,
        MUTED,
        align="right",
        width=width,
        minimum=4,
        setting=setting,
    )


def finish(c: Canvas, buf: io.BytesIO) -> bytes:
    c.showPage()
    # The page's operators, compressed but not ASCII85-encoded (smaller, and faster).
    page = c._doc.Pages.pages[-1]
    page.Contents = pdfdoc.PDFStream(content=page.stream, filters=[pdfdoc.PDFZCompress])
    c.save()
    return buf.getvalue()


def begin(
    snapshot: dict[str, Any], images: Mapping[str, bytes] | bytes | None, *, dated: bool = True
) -> tuple[Canvas, io.BytesIO, list[str], Mapping[str, bytes], Any]:
    """The canvas (see ``_canvas``), its buffer, the languages, the images by SHA-256 (raw
    ``bytes`` are taken as the logo) and the prepared logo (or None)."""
    register_fonts()
    logo_key = snapshot.get("logo")
    if isinstance(images, bytes | bytearray):
        logo_key = hashlib.sha256(images).hexdigest()
        images = {logo_key: bytes(images)}
    images = images or {}
    langs = languages(snapshot.get("language", "en"))
    buf = io.BytesIO()
    c = _canvas(buf, snapshot, langs, dated=dated)
    return c, buf, langs, images, _image(logo_key, images)


def render_certificate(
    snapshot: dict[str, Any],
    verification_url: str,
    images: Mapping[str, bytes] | bytes | None = None,
) -> bytes:
    """The certificate's PDF (identical bytes for identical arguments).

    ``images``: {sha256: bytes} of the images the snapshot names (``image_keys``); images
    already prepared in this process need not be given. Raw ``bytes`` are taken as the logo.
    """
    c, buf, langs, images, logo = begin(snapshot, images)
    y = _heading(c, snapshot, langs, logo)
    y = _holder(c, y, snapshot.get("holder") or {}, langs)
    y = draw_course(c, y, snapshot, langs)
    lowest = _modules(c, y, snapshot.get("modules", []), langs)
    # Signature images fit between the line and the text above it.
    room = min(SIGNATURE_MAX_H, lowest - 6 - (SIGNATURE_LINE_Y + 2))
    draw_signatories(c, snapshot.get("signatories") or [], SIGNATURE_LINE_Y, images, room)
    code = verification_url.rstrip("/").rsplit("/", 1)[-1]
    _footer_left(c, snapshot, langs, code)
    _footer_funders(c, snapshot, langs, images)
    draw_footer_verify(c, verification_url, langs)
    return finish(c, buf)
