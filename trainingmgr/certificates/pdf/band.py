"""The funders' band: the EU emblem drawn to the EU's graphic rules, and funders' logos."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reportlab.lib.colors import Color
from reportlab.pdfgen.canvas import Canvas

from trainingmgr.certificates.pdf import base
from trainingmgr.certificates.pdf.drawing import MUTED, centred, draw_text, joined_names
from trainingmgr.certificates.pdf.fonts import REGULAR, text_width
from trainingmgr.certificates.pdf.images import _Image, _image, draw_image
from trainingmgr.certificates.pdf.labels import _LABELS, label

# ------------------------------------------------------------------------------ funders

# The EU emblem's colours (EU graphic rules: Reflex Blue and Yellow, RGB 0/51/153 and
# 255/204/0) and its smallest printed height (1 cm).
EU_BLUE = Color(0, 51 / 255, 153 / 255)
EU_YELLOW = Color(1, 204 / 255, 0)
EU_MIN_HEIGHT = 72 / 2.54
BAND_BOTTOM, BAND_TOP, BAND_LABEL_Y = 40.0, 84.0, 90.0
BAND_GAP = 12.0
_BAND_HEIGHTS = (34.0, 30.0, 26.0, 22.0, 18.0)
_STAR_INNER = math.sin(math.radians(18)) / math.sin(math.radians(54))  # a regular pentagram


def draw_eu_emblem(c: Canvas, x: float, y: float, height: float) -> None:
    """The EU emblem as vectors, ``(x, y)`` its bottom-left corner: a Reflex Blue rectangle
    1.5 times as wide as high, with twelve five-pointed Yellow stars (each inside a circle of
    1/18 of the height) placed like the hours of a clock on a circle whose radius is a third
    of the height, each star with one point straight up."""
    width = height * 1.5
    if base._BOXES is not None:
        base._BOXES.append(("EU emblem", x, y, x + width, y + height))
    c.setFillColor(EU_BLUE)
    c.rect(x, y, width, height, stroke=0, fill=1)
    c.setFillColor(EU_YELLOW)
    cx, cy = x + width / 2, y + height / 2
    outer = height / 18
    path = c.beginPath()
    for hour in range(12):
        angle = math.radians(90 - 30 * hour)
        sx, sy = cx + height / 3 * math.cos(angle), cy + height / 3 * math.sin(angle)
        for point in range(10):
            r = outer if point % 2 == 0 else outer * _STAR_INNER
            a = math.radians(90 + 36 * point)
            px, py = sx + r * math.cos(a), sy + r * math.sin(a)
            if point == 0:
                path.moveTo(px, py)
            else:
                path.lineTo(px, py)
        path.close()
    c.drawPath(path, stroke=0, fill=1)


@dataclass(frozen=True)
class _BandItem:
    """One funder in the band: the EU emblem with its statement, a logo, or a name."""

    kind: str  # "eu", "logo", "name"
    width: float
    height: float
    text: tuple[str, ...] = ()
    size: float = 8.0
    image: _Image | None = None


def _eu_lines(langs: list[str]) -> list[str]:
    """ "Funded by the European Union" in the certificate's languages, each on two lines."""
    return [line for lang in langs for line in _LABELS[lang]["eu"].split("|")]


def _eu_item(langs: list[str], height: float) -> _BandItem:
    """The EU emblem (at least ``height`` and 1 cm high) with its statement beside it."""
    emblem = max(height, EU_MIN_HEIGHT)
    lines = _eu_lines(langs)
    size = min(8.5, emblem / (len(lines) * 1.2))
    text_w = max(text_width(line, REGULAR, size) for line in lines)
    return _BandItem("eu", emblem * 1.75 + text_w, emblem, tuple(lines), size)


def _logo_items(
    funding: list[dict[str, Any]], images: Mapping[str, bytes], height: float
) -> list[_BandItem]:
    """The logos of the funders other than the EU, ``height`` high (very wide ones less)."""
    items = []
    for funder in funding:
        image = None if funder.get("eu") else _image(funder.get("logo"), images)
        if image is not None:
            w = min(height * 3.2, image.width / image.height * height)
            h = w * image.height / image.width
            items.append(_BandItem("logo", w, h, (str(funder.get("name") or ""),), image=image))
    return items


def _band_label(
    funding: list[dict[str, Any]], langs: list[str], images: Mapping[str, bytes]
) -> str | None:
    """ "Funded by:" with the names of the funders without a logo, when any funder other than
    the EU is shown (else None)."""
    names = [
        str(f.get("name"))
        for f in funding
        if not f.get("eu") and f.get("name") and _image(f.get("logo"), images) is None
    ]
    logos_shown = any(not f.get("eu") and _image(f.get("logo"), images) for f in funding)
    if not (names or logos_shown):
        return None
    text = f"{label(langs, 'funders')}:"
    return f"{text} {joined_names(names)}" if names else text


def _draw_eu(c: Canvas, item: _BandItem, x: float, middle_y: float) -> None:
    """The EU emblem and "Funded by the European Union" beside it."""
    h = item.height
    draw_eu_emblem(c, x, middle_y - h / 2, h)
    pitch = item.size * 1.2
    first = middle_y + pitch * (len(item.text) - 1) / 2 - item.size * 0.3
    black = Color(0, 0, 0)
    for i, line in enumerate(item.text):
        draw_text(
            c,
            x + h * 1.75,
            first - pitch * i,
            line,
            REGULAR,
            item.size,
            black,
            align="left",
            minimum=1,
        )


def draw_funders_band(
    c: Canvas,
    funding: list[dict[str, Any]],
    langs: list[str],
    images: Mapping[str, bytes],
    x: float,
    width: float,
) -> None:
    """The funders at the bottom of the page, between the serial and the QR code.

    "Funded by:" with the names of the funders that have no logo (when any other than the
    EU is shown), then a row: the EU emblem with "Funded by the European Union" first (the
    EU's visibility rules: at least 1 cm high and at least as high as any other logo), then
    the other funders' logos, as large as fits (34 to 18 pt high; narrower when even that
    is too wide, while the emblem keeps its size).
    """
    eu = any(f.get("eu") for f in funding)
    text = _band_label(funding, langs, images)
    if text is not None:
        centred(c, BAND_LABEL_Y, text, REGULAR, 8, MUTED, width=width, minimum=5)
    top = BAND_TOP + 12 if text is None else BAND_TOP  # the top of the row of logos
    for height in _BAND_HEIGHTS:
        logos = _logo_items(funding, images, height)
        items = ([_eu_item(langs, height)] if eu else []) + logos
        total = sum(i.width for i in items) + BAND_GAP * (len(items) - 1)
        if total <= width:
            break
    # Still too wide with 18 pt logos (many funders): the logos narrow, the emblem does not.
    fixed = sum(i.width for i in items if i.kind == "eu") + BAND_GAP * (len(items) - 1)
    logo_w = sum(i.width for i in logos)
    scale = min(1.0, (width - fixed) / logo_w) if logo_w else 1.0
    total = fixed + logo_w * scale
    middle_y = (BAND_BOTTOM + top) / 2
    cursor = x + max(0.0, (width - total) / 2)
    for item in items:
        if item.kind == "eu":
            _draw_eu(c, item, cursor, middle_y)
            cursor += item.width + BAND_GAP
        elif item.image is not None:
            w, h = item.width * scale, item.height * scale
            draw_image(c, item.image, cursor, middle_y - h / 2, w, h)
            cursor += w + BAND_GAP
