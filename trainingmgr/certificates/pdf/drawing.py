"""Drawing on the canvas: colours, lines of text (centred, wrapped, balanced), the border,
ornaments, and the signatories."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from trainingmgr.certificates.pdf import base
from trainingmgr.certificates.pdf.base import PAGE_H, PAGE_W
from trainingmgr.certificates.pdf.fonts import (
    BOLD,
    CURRENT,
    ITALIC,
    REGULAR,
    Typesetting,
    _pieces,
    text_width,
)
from trainingmgr.certificates.pdf.images import _image, draw_image

# ------------------------------------------------------------------------------ drawing

INK = Color(0.11, 0.15, 0.25)  # deep navy
MUTED = Color(0.36, 0.39, 0.45)
GOLD = Color(0.69, 0.55, 0.28)
MARGIN = 28
TEXT_WIDTH = PAGE_W - 2 * 90


def draw_text(
    c: Canvas,
    x: float,
    y: float,
    text: str,
    style: str = REGULAR,
    size: float = 10,
    colour: Color = INK,
    *,
    width: float | None = None,
    align: str = "centre",
    minimum: float = 7,
    setting: Typesetting = CURRENT,
) -> float:
    """Draw ``text`` at ``y``, centred on ``x`` (or starting or ending there with ``align``
    "left" or "right"), shrunk to fit ``width``; return the size used.

    Each run is set in the font that has its letters.
    """
    if not text:
        return 0
    pieces, total = _pieces(text, style, size, setting)
    if width is not None and total > width:
        size = max(minimum, size * width / total)
        pieces, total = _pieces(text, style, size, setting)
    left = x - total / 2 if align == "centre" else x - total if align == "right" else x
    if base._BOXES is not None:
        base._BOXES.append((text, left, y - 0.3 * size, left + total, y + 0.8 * size))
    c.setFillColor(colour)
    # One text object for the line (a font change does not start a new line for extractors);
    # each piece starts where the previous one's advance ends.
    line = c.beginText(left, y)
    for i, piece in enumerate(pieces):
        if i:
            line.moveCursor(pieces[i - 1].width, 0)
        line.setFont(piece.font, size)
        line.textOut(piece.text)
    c.drawText(line)
    return size


def centred(
    c: Canvas, y: float, text: str, *args: Any, width: float = TEXT_WIDTH, **kwargs: Any
) -> float:
    """``draw_text`` centred on the page at ``y`` (shrunk to fit ``width``, the text's width
    unless given); ``args`` and ``kwargs`` are ``draw_text``'s (style, size, colour, ...)."""
    return draw_text(c, PAGE_W / 2, y, text, *args, width=width, **kwargs)


def wrap(
    text: str, style: str, size: float, width: float, setting: Typesetting = CURRENT
) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and text_width(candidate, style, size, setting) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines


def balanced(
    text: str, style: str, size: float, width: float, setting: Typesetting = CURRENT
) -> list[str]:
    """``text`` on one line if it fits, else on two lines of similar width."""
    words = text.split()
    if len(words) < 2 or text_width(text, style, size, setting) <= width:
        return [text] if text else []

    def widest(i: int) -> float:
        parts = (words[:i], words[i:])
        return max(text_width(" ".join(part), style, size, setting) for part in parts)

    best = min(range(1, len(words)), key=widest)
    return [" ".join(words[:best]), " ".join(words[best:])]


def _diamond(c: Canvas, x: float, y: float, r: float) -> None:
    p = c.beginPath()
    p.moveTo(x, y - r)
    p.lineTo(x + r, y)
    p.lineTo(x, y + r)
    p.lineTo(x - r, y)
    p.close()
    c.drawPath(p, stroke=0, fill=1)


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
            _diamond(c, x, y, 5)


def ornament(c: Canvas, y: float, half: float = 60) -> None:
    """A thin gold rule with a diamond in its middle."""
    mid = PAGE_W / 2
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.7)
    c.line(mid - half, y, mid - 6, y)
    c.line(mid + 6, y, mid + half, y)
    c.setFillColor(GOLD)
    _diamond(c, mid, y, 3)


@lru_cache(maxsize=16)
def _operators(drawing: Callable[..., None], *args: Any) -> str:
    """The PDF operators ``drawing(canvas, *args)`` writes, inside q/Q (computed once)."""
    scratch = Canvas(io.BytesIO(), pagesize=(PAGE_W, PAGE_H), invariant=1)
    start = len(scratch._code)
    drawing(scratch, *args)
    return "\n".join(["q", *scratch._code[start:], "Q"])


def static(c: Canvas, drawing: Callable[..., None], *args: Any) -> None:
    """Draw a fixed decoration (border, ornament) from its cached operators."""
    c._code.append(_operators(drawing, *args))


def joined_names(items: Iterable[Any]) -> str:
    return " · ".join(str(i) for i in items if i)


SIGNATURE_LINE_Y = 140
SIGNATURE_MAX_H = 36
NAME_WIDTH = PAGE_W - 2 * 110
NAME_SIZE, NAME_MIN_ONE_LINE, NAME_MIN_TWO_LINES = 34.0, 26.0, 22.0


def name_lines(name: str) -> tuple[list[str], float]:
    """The holder's name as printed: one line at 34 pt, shrunk down to 26 pt if needed;
    else two balanced lines at the largest size from 26 to 22 pt that fits; else two lines
    shrunk to fit (a name never runs past the border)."""
    if not name:
        return [], NAME_SIZE
    one = text_width(name, BOLD, NAME_SIZE)
    if one * NAME_MIN_ONE_LINE / NAME_SIZE <= NAME_WIDTH:
        return [name], min(NAME_SIZE, NAME_SIZE * NAME_WIDTH / one)
    lines = balanced(name, BOLD, NAME_MIN_TWO_LINES, 0)
    widest = max(text_width(line, BOLD, NAME_SIZE) for line in lines)
    size = min(26.0, NAME_SIZE * NAME_WIDTH / widest)
    return lines, max(1.0, size)


def signature_lines(
    c: Canvas, signatories: list[dict[str, Any]], images: Mapping[str, bytes], room: float, y: float
) -> Iterator[tuple[dict[str, Any], float, float]]:
    """Draw the signature lines (at most three) spread across the middle of the page, a
    signature image on its line (at most ``room`` points high); yield each signatory with the
    middle and width of their slot, for the caller to write the name and title under it."""
    shown = [s for s in signatories if isinstance(s, dict)][:3]
    if not shown:
        return
    span = 560
    slot = span / len(shown)
    left = (PAGE_W - span) / 2
    for i, person in enumerate(shown):
        mid = left + slot * (i + 0.5)
        signature = _image(person.get("signature"), images)
        if signature is not None and room >= 12:
            box_w = slot * 0.7
            draw_image(c, signature, mid - box_w / 2, y + 2, box_w, room, anchor="s")
        c.setStrokeColor(MUTED)
        c.setLineWidth(0.5)
        c.line(mid - slot * 0.38, y, mid + slot * 0.38, y)
        yield person, mid, slot


def draw_signatories(
    c: Canvas,
    signatories: list[dict[str, Any]],
    y: float,
    images: Mapping[str, bytes],
    room: float,
) -> None:
    """Signature lines with names and titles, spread across the middle of the page; a
    signature image sits on its line (at most ``room`` points high)."""
    for person, mid, slot in signature_lines(c, signatories, images, room, y):
        name = str(person.get("name") or "")
        # Shrunk as far as needed: a name never runs into the next signatory's.
        draw_text(c, mid, y - 13, name, BOLD, 10, width=slot * 0.9, minimum=1)
        # A long title takes two lines (and shrinks only if two are not enough).
        title = balanced(str(person.get("title") or ""), ITALIC, 8.5, slot * 0.9)
        for j, line in enumerate(title[:2]):
            draw_text(c, mid, y - 24 - 9.5 * j, line, ITALIC, 8, MUTED, width=slot * 0.9, minimum=1)
