"""QR codes drawn as inline SVG (no image file, no script): check-in codes, authenticator set-up."""

from __future__ import annotations

import segno


def qr_svg(data: str, title: str = "", css_class: str = "checkin-qr") -> str:
    """An inline SVG QR code (scales to its container through its viewBox)."""
    code = segno.make_qr(data, error="m")
    return code.svg_inline(
        scale=1, border=4, omitsize=True, svgclass=css_class, light="#fff", title=title or None
    )
