"""The certificate PDF: A4 landscape, drawn with ReportLab's canvas from the issued snapshot.

The package, by concern: ``base`` (page size, font folder, caches), ``fonts`` (fonts, runs of
text, shaping), ``labels`` (printed labels, dates), ``images``, ``drawing`` (text lines,
border, ornaments, signatories), ``qr``, ``band`` (funders and the EU emblem) and ``layout``
(``render_certificate``, the page itself). Import from the package: its names below are the
public ones (the reports' PDFs draw text with ``draw_text`` and ``wrap`` too).

``render_certificate(snapshot, verification_url, images)`` depends on nothing but its
arguments and renders identical bytes every time (ReportLab's invariant mode), so the SHA-256
shown on the verification page identifies the file. ``images`` maps the SHA-256 of each image
the snapshot names (its ``logo``, each signatory's ``signature``) to the image's bytes. The
snapshot (see docs/certificates.md)::

    {"language": "en" | "ru" | "az" | "en+ru" | "en+az",
     "holder": {"name": "Ləman Əliyeva", "name_latin": "Laman Aliyeva" or None},
     "programme": {"code", "title", "partners": [str], "funders": [str]},
     "cohort": {"name", "place", "start_date": "2022-03-01", "end_date": "2022-03-12"},
     "hours": "24", "modules": [{"code", "title"}],
     "signatories": [{"name", "title", "signature": sha256 or None}],
     "logo": sha256 or None, "issuer": {"name"},
     "serial": "RTCM-2022-0042", "issued_on": "2022-03-15"}

Snapshots issued before ``logo`` and ``signature`` existed render without images.

Text: every line is cut into runs by the font that has each letter (Noto Serif for Latin,
Cyrillic and Greek; Noto Serif Georgian, Armenian, Ethiopic and Hebrew; Noto Naskh Arabic), so
a name mixing scripts prints every letter (issuing refuses a name with letters none of them
has). Arabic-script and Hebrew runs are shaped with HarfBuzz and set right to left
within the (left-to-right) line. Copying gives the name as written: each shaped glyph's
ToUnicode entry is the letter it shows (not the Arabic presentation form), glyphs without a
code point of their own (parts of lam-alef) map to their letters through HarfBuzz's clusters,
the zero width non-joiner is kept, and the optional ligatures that would make one glyph of
several letters are not used. (An ``/ActualText`` span was tried: pypdf ignores it and poppler
reads its text as visual order, reversing it.)

Speed (3-4 ms a certificate once the process is warm: ``benchmarks/certificates_bench.py``):
fonts are registered once per process; font subsets (compressed), glyph width arrays and
ToUnicode maps are cached by their glyph lists, shaped runs by their text; images are decoded
and compressed once per process (by SHA-256) and the same prepared XObject is copied into each
PDF; the border is drawn once and its operators reused; the QR code is one path written in
module units; the page stream is not ASCII85-encoded. None of this changes the bytes: the
same arguments give the same PDF in a fresh process or a warm one.
"""

from __future__ import annotations

from trainingmgr.certificates.pdf.base import PAGE_H, PAGE_W, record_text_boxes
from trainingmgr.certificates.pdf.drawing import MARGIN, centred, draw_text, name_lines, wrap
from trainingmgr.certificates.pdf.fonts import (
    BOLD,
    FALLBACK_FAMILY,
    ITALIC,
    REGULAR,
    covers,
    fallback_font,
    font_name,
    missing_glyphs,
    register_fonts,
    set_fallback_font,
    text_runs,
    text_width,
)
from trainingmgr.certificates.pdf.images import _IMAGES, eight_bit, has_image, image_keys
from trainingmgr.certificates.pdf.labels import fmt_day, fmt_period, label, languages
from trainingmgr.certificates.pdf.layout import render_certificate
from trainingmgr.certificates.pdf.qr import qr_runs

# The layout version stored with each certificate issued by this package (1: pdf_v1.py).
LAYOUT = 2

__all__ = [
    "BOLD",
    "FALLBACK_FAMILY",
    "ITALIC",
    "LAYOUT",
    "MARGIN",
    "PAGE_H",
    "PAGE_W",
    "REGULAR",
    "_IMAGES",
    "centred",
    "covers",
    "draw_text",
    "eight_bit",
    "fallback_font",
    "fmt_day",
    "fmt_period",
    "font_name",
    "has_image",
    "image_keys",
    "label",
    "languages",
    "missing_glyphs",
    "name_lines",
    "qr_runs",
    "record_text_boxes",
    "register_fonts",
    "render_certificate",
    "set_fallback_font",
    "text_runs",
    "text_width",
    "wrap",
]
