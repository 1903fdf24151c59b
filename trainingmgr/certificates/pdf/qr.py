"""The QR code of the verification address, drawn as one path in module units."""

from __future__ import annotations

import re

import segno
from reportlab.pdfgen.canvas import Canvas

from trainingmgr.certificates.pdf import base
from trainingmgr.certificates.pdf.images import _num

_DARK = re.compile(b"\x01+")
_BIT = bytes([0] + [1] * 255)


def qr_runs(data: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR code of ``data`` as (size in modules, dark runs (row, first column, length)).

    The mask is fixed: searching the best one is most of segno's time, and any mask decodes.
    """
    matrix = segno.make(data, error="m", mask=4, micro=False).matrix
    runs = [
        (r, m.start(), m.end() - m.start())
        for r, row in enumerate(matrix)
        for m in _DARK.finditer(bytes(row).translate(_BIT))
    ]
    return len(matrix), runs


def draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code as one filled path of rectangles, ``(x, y)`` its bottom-left corner,
    written in module units (one scaling for the whole code)."""
    count, runs = qr_runs(data)
    module = size / count
    if base._BOXES is not None:
        base._BOXES.append(("QR code", x, y, x + size, y + size))
    ops = [f"q 0 0 0 rg {module:.5f} 0 0 {module:.5f} {_num(x)} {_num(y)} cm"]
    ops += [f"{col} {count - row - 1} {length} 1 re" for row, col, length in runs]
    ops.append("f Q")
    c._code.append("\n".join(ops))
