"""Layout 1, frozen: the renderer of certificates issued before their PDF was stored.

Kept so that the migration that stores each earlier certificate's PDF writes the very bytes
its holder downloaded then. It is the current renderer's code (``certificates/pdf/``: fonts,
images, labels, dates, QR code, border, ornaments, the canvas) with only what layout 1 did
differently, each marked "frozen: ...". Any change to the shared code must keep these bytes
(the layout-1 test of ``tests/test_certificates_export.py`` renders one); new certificates
use ``pdf``.

``render_certificate(snapshot, verification_url, images)`` takes the snapshot described in
``pdf`` (layout 1 prints neither the issuer's name above the partners, nor the verification
code, nor the funders' logos) and renders identical bytes every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reportlab.pdfgen.canvas import Canvas

from trainingmgr.certificates.pdf import drawing
from trainingmgr.certificates.pdf import images as shared_images
from trainingmgr.certificates.pdf.base import PAGE_H, PAGE_W
from trainingmgr.certificates.pdf.drawing import MUTED, centred, draw_text, signature_lines, wrap
from trainingmgr.certificates.pdf.fonts import (
    BOLD,
    ITALIC,
    REGULAR,
    Typesetting,
    use_sequential_subset_tags,
)
from trainingmgr.certificates.pdf.labels import fmt_day, label
from trainingmgr.certificates.pdf.layout import (
    begin,
    draw_border_and_logo,
    draw_course,
    draw_footer_verify,
    draw_title,
    finish,
    modules_text,
)

# frozen: differs from layout 2 because layout 1 shipped with fewer fonts (no Indic or
# South-East Asian scripts, no uploaded fallback font) and shaped only right-to-left runs
# (layout 2 shapes every run, kerning Latin and Cyrillic too).
V1 = Typesetting(
    families=("serif", "georgian", "armenian", "arabic", "ethiopic", "hebrew"), shape_all=False
)


def image_keys(snapshot: Mapping[str, Any]) -> list[str]:
    """The SHA-256 of every image layout 1 prints: the logo and the signatures (frozen:
    differs from layout 2 because it prints no funders' logos)."""
    return shared_images.image_keys(snapshot, funding=False)


def _heading(c: Canvas, snapshot: dict[str, Any], langs: list[str]) -> float:
    """The partners in capitals, then the title (frozen: differs from layout 2 because the
    issuer's name is not printed and the partners have no "In partnership with")."""
    partners = (snapshot.get("programme") or {}).get("partners", [])
    if partners:
        text = drawing.joined_names(partners).upper()
        centred(c, PAGE_H - 84, text, REGULAR, 8.5, MUTED, width=PAGE_W - 2 * 180, setting=V1)
    return draw_title(c, langs, V1)


def _holder(c: Canvas, y: float, holder: dict[str, Any], langs: list[str]) -> float:
    """ "This certifies that" and the name (frozen: differs from layout 2 because the name
    is one line at 34 pt shrunk to fit, and the rule under it has a fixed width)."""
    y -= 52
    centred(c, y, label(langs, "certify", sep="  ·  "), ITALIC, 12, MUTED, setting=V1)
    y -= 50
    name = str(holder.get("name") or "")
    centred(c, y, name, BOLD, 34, width=drawing.NAME_WIDTH, setting=V1)
    latin = holder.get("name_latin")
    if latin and latin != name:
        y -= 24
        centred(c, y, str(latin), ITALIC, 12, MUTED, setting=V1)
    c.setStrokeColor(drawing.GOLD)
    c.setLineWidth(0.5)
    c.line(PAGE_W / 2 - 190, y - 16, PAGE_W / 2 + 190, y - 16)
    return y


def _modules(c: Canvas, y: float, modules: list[dict[str, Any]], langs: list[str]) -> float:
    """The modules (frozen: differs from layout 2 because they are cut after three lines at
    8 pt whatever the room); the lowest line drawn."""
    lowest = y
    if not modules:
        return lowest
    y -= 16
    for line in wrap(modules_text(modules, langs), REGULAR, 8, PAGE_W - 260, V1)[:3]:
        centred(c, y, line, REGULAR, 8, MUTED, setting=V1)
        lowest = y
        y -= 11
    return lowest


def _signatories(
    c: Canvas, signatories: list[dict[str, Any]], images: Mapping[str, bytes], room: float
) -> None:
    """Names and titles under the signature lines (frozen: differs from layout 2 because the
    title is one line, and both shrink to 80% of the slot only down to 7 pt)."""
    y = drawing.SIGNATURE_LINE_Y
    for person, mid, slot in signature_lines(c, signatories, images, room, y):
        width = slot * 0.8
        name = str(person.get("name") or "")
        draw_text(c, mid, y - 13, name, BOLD, 10, width=width, setting=V1)
        title = str(person.get("title") or "")
        draw_text(c, mid, y - 25, title, ITALIC, 8.5, MUTED, width=width, setting=V1)


def _footer(c: Canvas, snapshot: dict[str, Any], langs: list[str], url: str) -> None:
    """Funders' names in the middle, serial and date on the left, the QR code on the right
    (frozen: differs from layout 2 because there is no funders' band nor verification code,
    and the lines sit lower)."""
    funders = (snapshot.get("programme") or {}).get("funders", [])
    if funders:
        text = f"{label(langs, 'funders')}: {drawing.joined_names(funders)}"
        centred(c, 68, text, REGULAR, 8, MUTED, width=PAGE_W - 2 * 200, setting=V1)
    left = drawing.MARGIN + 26
    serial = f"{label(langs, 'serial')} {snapshot.get('serial', '')}"
    draw_text(c, left, 84, serial, BOLD, 9, drawing.INK, align="left", setting=V1)
    if snapshot.get("issued_on"):
        issued = " / ".join(fmt_day(snapshot["issued_on"], lang) for lang in langs)
        text = f"{label(langs, 'issued')}: {issued}"
        draw_text(c, left, 72, text, REGULAR, 8, MUTED, align="left", setting=V1)
    draw_footer_verify(c, url, langs, width=None, setting=V1)


def render_certificate(
    snapshot: dict[str, Any],
    verification_url: str,
    images: Mapping[str, bytes] | bytes | None = None,
) -> bytes:
    """The certificate's PDF in layout 1, as ``pdf.render_certificate`` takes its arguments
    (``image_keys`` names the images it needs)."""
    # frozen: differs from layout 2 because the metadata dates are not the date of issue
    # and the font subsets are tagged by number.
    c, buf, langs, images, logo = begin(snapshot, images, dated=False)
    use_sequential_subset_tags(c._doc)
    draw_border_and_logo(c, logo)
    y = _heading(c, snapshot, langs)
    y = _holder(c, y, snapshot.get("holder") or {}, langs)
    # frozen: differs from layout 2 in the spacing, and "completed" does not agree with sex.
    y = draw_course(c, y, snapshot, langs, gaps=(42, 32, 4), agree=False, setting=V1)
    lowest = _modules(c, y, snapshot.get("modules", []), langs)
    # Signature images fit between the line and the text above it (frozen: 10 points under
    # the text, 6 in layout 2).
    room = min(drawing.SIGNATURE_MAX_H, lowest - 10 - (drawing.SIGNATURE_LINE_Y + 2))
    _signatories(c, snapshot.get("signatories") or [], images, room)
    _footer(c, snapshot, langs, verification_url)
    return finish(c, buf)
