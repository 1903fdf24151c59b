"""The certificate PDF: A4 landscape, drawn with ReportLab's canvas from the issued snapshot.

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

import copy
import hashlib
import io
import logging
import math
import re
import threading
import unicodedata
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar

import segno
from PIL import Image, ImageOps
from reportlab.lib.abag import ABag
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    ShapedStr,
    TTFont,
    TTFontFace,
    shapeFragWord,
)
from reportlab.pdfgen.canvas import Canvas

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).parent / "fonts"
# The layout version stored with each certificate issued by this module (1: pdf_v1.py).
LAYOUT = 2
PAGE_W, PAGE_H = landscape(A4)

T = TypeVar("T")

# ------------------------------------------------------------------------------ caches

_cache_lock = threading.Lock()
# Subsetting reads the font file through a shared cursor: one subset at a time.
_subset_lock = threading.Lock()


def _cached(cache: OrderedDict[Any, T], key: Any, make: Callable[[], T], size: int) -> T:
    """``cache[key]``, made with ``make()`` on a miss; at most ``size`` entries (LRU)."""
    with _cache_lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = make()
    with _cache_lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)
    return value


# ------------------------------------------------------------------------------ fonts

REGULAR, BOLD, ITALIC = "regular", "bold", "italic"
SERIF, SERIF_BOLD, SERIF_ITALIC = "CertSerif", "CertSerif-Bold", "CertSerif-Italic"

# Scripts of South and South-East Asia, each a Noto Serif family (regular and bold).
_INDIC_AND_SOUTHEAST_ASIAN = (
    "Devanagari",
    "Bengali",
    "Gurmukhi",
    "Gujarati",
    "Tamil",
    "Sinhala",
    "Thai",
    "Lao",
    "Khmer",
    "Myanmar",
)

# family -> style -> (registered font name, file). A family without an italic uses its
# regular face for italic text.
_FAMILIES: dict[str, dict[str, tuple[str, str]]] = {
    "serif": {
        REGULAR: (SERIF, "NotoSerif-Regular.ttf"),
        BOLD: (SERIF_BOLD, "NotoSerif-Bold.ttf"),
        ITALIC: (SERIF_ITALIC, "NotoSerif-Italic.ttf"),
    },
    "georgian": {
        REGULAR: ("CertGeorgian", "NotoSerifGeorgian-Regular.ttf"),
        BOLD: ("CertGeorgian-Bold", "NotoSerifGeorgian-Bold.ttf"),
    },
    "armenian": {
        REGULAR: ("CertArmenian", "NotoSerifArmenian-Regular.ttf"),
        BOLD: ("CertArmenian-Bold", "NotoSerifArmenian-Bold.ttf"),
    },
    "arabic": {
        REGULAR: ("CertArabic", "NotoNaskhArabic-Regular.ttf"),
        BOLD: ("CertArabic-Bold", "NotoNaskhArabic-Bold.ttf"),
    },
    "ethiopic": {
        REGULAR: ("CertEthiopic", "NotoSerifEthiopic-Regular.ttf"),
        BOLD: ("CertEthiopic-Bold", "NotoSerifEthiopic-Bold.ttf"),
    },
    "hebrew": {
        REGULAR: ("CertHebrew", "NotoSerifHebrew-Regular.ttf"),
        BOLD: ("CertHebrew-Bold", "NotoSerifHebrew-Bold.ttf"),
    },
    **{
        script.lower(): {
            REGULAR: (f"Cert{script}", f"NotoSerif{script}-Regular.ttf"),
            BOLD: (f"Cert{script}-Bold", f"NotoSerif{script}-Bold.ttf"),
        }
        for script in _INDIC_AND_SOUTHEAST_ASIAN
    },
}
# The font tried first for a letter, then the others in this order.
_FALLBACK = (
    "serif",
    "georgian",
    "armenian",
    "arabic",
    "ethiopic",
    "hebrew",
    *(script.lower() for script in _INDIC_AND_SOUTHEAST_ASIAN),
)
_RIGHT_TO_LEFT = frozenset({"arabic", "hebrew"})

_SUBSETS: OrderedDict[tuple[str, tuple[int, ...]], tuple[int, bytes]] = OrderedDict()
SUBSET_CACHE_SIZE = 256
_registered = False
_COVERAGE: dict[str, dict[int, int]] = {}


def font_name(family: str, style: str = REGULAR) -> str:
    faces = _FAMILIES[family]
    return (faces.get(style) or faces[REGULAR])[0]


class _CachingFace(TTFontFace):
    """A font face whose subsets (the font program embedded in a PDF) are made and compressed
    once per process for each list of glyphs, instead of once per document.

    ``addSubsetObjects`` is ReportLab's (``TTFontFace.addSubsetObjects``, 4.x) with the cached,
    already compressed subset.
    """

    def _subset(self, subset: list[int]) -> tuple[int, bytes]:
        """(length, Flate-compressed bytes) of the subset."""

        def make() -> tuple[int, bytes]:
            with _subset_lock:
                raw = TTFontFace.makeSubset(self, subset)
            return len(raw), zlib.compress(raw)

        return _cached(_SUBSETS, (self.filename, tuple(subset)), make, SUBSET_CACHE_SIZE)

    def makeSubset(self, subset: list[int]) -> bytes:  # noqa: N802 (ReportLab's name)
        return zlib.decompress(self._subset(subset)[1])

    def addSubsetObjects(self, doc: Any, fontname: str, subset: list[int]) -> Any:  # noqa: N802
        length, packed = self._subset(subset)
        font_file = pdfdoc.PDFStream()
        font_file.dictionary["Length1"] = length
        if doc.compression:
            font_file.content = packed
            font_file.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
        else:
            font_file.content = zlib.decompress(packed)
        font_file_ref = doc.Reference(font_file, f"fontFile:{self.filename}({fontname})")
        descriptor = pdfdoc.PDFDictionary(
            {
                "Type": "/FontDescriptor",
                "Ascent": self.ascent,
                "CapHeight": self.capHeight,
                "Descent": self.descent,
                "Flags": (self.flags & ~FF_NONSYMBOLIC) | FF_SYMBOLIC,
                "FontBBox": pdfdoc.PDFArray(self.bbox),
                "FontName": pdfdoc.PDFName(fontname),
                "ItalicAngle": self.italicAngle,
                "StemV": self.stemV,
                "FontFile2": font_file_ref,
                "MissingWidth": self.defaultWidth,
            }
        )
        return doc.Reference(descriptor, "fontDescriptor:" + fontname)


class _Raw(pdfdoc.PDFObject):
    """Bytes written into the PDF as they are (a cached, already formatted value)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def format(self, document: Any) -> bytes:
        return self.data


_WIDTHS: OrderedDict[tuple[str, str, tuple[int, ...]], bytes] = OrderedDict()
_CMAPS: OrderedDict[tuple[str, str, tuple[int, ...]], bytes] = OrderedDict()
# Glyphs HarfBuzz gives that have no code point of their own (ReportLab numbers them in the
# private use area): font name -> {private code: the letters the glyph stands for}.
_PRIVATE_TEXT: dict[str, dict[int, str]] = {}


def _unicode_of(font: str, code: int) -> str:
    """The text a glyph of the subset stands for, as copying should give it: Arabic
    presentation forms (shaped letters) as their letters, ligatures as their letters."""
    char = chr(code)
    if 0xFB50 <= code <= 0xFDFF or 0xFE70 <= code <= 0xFEFF:
        return unicodedata.normalize("NFKC", char)
    if 0xE000 <= code <= 0xF8FF:
        return _PRIVATE_TEXT.get(font, {}).get(code, char)
    return char


def _to_unicode_cmap(font: str, base_font: str, subset: list[int]) -> bytes:
    """ReportLab's ToUnicode CMap, with shaped glyphs mapped to the letters they show."""
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        f"<< /Registry ({base_font})",
        f"/Ordering ({base_font})",
        "/Supplement 0",
        ">> def",
        f"/CMapName /{base_font} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange",
        f"{len(subset)} beginbfchar",
        *(
            f"<{i:02X}> <{_unicode_of(font, code).encode('utf-16-be').hex().upper()}>"
            for i, code in enumerate(subset)
        ),
        "endbfchar",
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ]
    return zlib.compress("\n".join(lines).encode("latin-1"))


class _Font(TTFont):
    """A certificate font: its per-document objects (glyph widths, ToUnicode map) come from
    per-process caches, and shaped Arabic glyphs copy as the letters they show.

    ``addObjects`` is ReportLab's (``TTFont.addObjects``, 4.x) with those two objects cached.
    """

    def addObjects(self, doc: Any) -> None:  # noqa: N802 (ReportLab's name)
        try:
            state = self.state[doc]
        except KeyError:
            state = self.state[doc] = TTFont.State(self._asciiReadable)
        state.frozen = 1
        fonts = doc.idToObject["BasicFonts"].dict
        for n, subset in enumerate(state.subsets):
            internal_name = self.getSubsetInternalName(n, doc)[1:]
            base_font = b"".join(
                (
                    subset_tag(self.face.name, [self.face.charToGlyph.get(c, 0) for c in subset]),
                    b"+",
                    self.face.name,
                    self.face.subfontNameX,
                )
            ).decode("pdfdoc")
            pdf_font = pdfdoc.PDFTrueTypeFont()
            pdf_font.__Comment__ = f"Font {self.fontName} subset {n}"
            pdf_font.Name = internal_name
            pdf_font.BaseFont = base_font
            pdf_font.FirstChar = 0
            pdf_font.LastChar = len(subset) - 1
            key = (self.fontName, base_font, tuple(subset))
            pdf_font.Widths = _Raw(_cached(_WIDTHS, key, partial(self._widths, subset, doc), 256))
            cmap = pdfdoc.PDFStream()
            make = partial(_to_unicode_cmap, self.fontName, base_font, subset)
            packed = _cached(_CMAPS, key, make, 256)
            if doc.compression:
                cmap.content = packed
                cmap.dictionary["Filter"] = pdfdoc.PDFArray([pdfdoc.PDFName("FlateDecode")])
            else:
                cmap.content = zlib.decompress(packed)
            pdf_font.ToUnicode = doc.Reference(cmap, "toUnicodeCMap:" + base_font)
            pdf_font.FontDescriptor = self.face.addSubsetObjects(doc, base_font, subset)
            doc.Reference(pdf_font, internal_name)
            fonts[internal_name] = pdf_font
        del self.state[doc]

    def _widths(self, subset: list[int], doc: Any) -> bytes:
        return pdfdoc.PDFArray([self.face.getCharWidth(code) for code in subset]).format(doc)


def subset_tag(face: bytes, glyphs: list[int]) -> bytes:
    """The six capital letters before a subset's font name (ISO 32000-1 9.6.4), derived from
    the font and its glyph ids (not the private codes given to shaped glyphs, which depend on
    what the process shaped before): the same subset always gets the same tag, and different
    subsets different tags, even across certificates merged into one print file."""
    digest = int.from_bytes(
        hashlib.sha256(face + b":" + ",".join(map(str, glyphs)).encode()).digest()[:8], "big"
    )
    letters = []
    for _ in range(6):
        digest, rest = divmod(digest, 26)
        letters.append(65 + rest)
    return bytes(letters)


def register_fonts() -> None:
    """Register the certificate fonts with ReportLab (once per process)."""
    global _registered
    if _registered:
        return
    with _cache_lock:
        if _registered:
            return
        for faces in _FAMILIES.values():
            for name, filename in faces.values():
                font = _Font(name, str(FONT_DIR / filename))
                font.face.__class__ = _CachingFace
                pdfmetrics.registerFont(font)
                _COVERAGE[name] = font.face.charToGlyph
        _registered = True


# The administrator's uploaded font (organisation settings), tried after every shipped one:
# (SHA-256 of the font file, registered name), or None.
_fallback: tuple[str, str] | None = None
FALLBACK_FAMILY = "fallback"


def fallback_font() -> str | None:
    """The SHA-256 of the uploaded fallback font this process uses, or None."""
    return _fallback[0] if _fallback else None


def set_fallback_font(key: str | None, data: bytes | None = None) -> None:
    """Use the font ``data`` (SHA-256 ``key``) as the last fallback for letters no shipped
    font has; None stops using one. Registered once per process per font."""
    global _fallback, _FALLBACK
    register_fonts()
    if (key or None) == fallback_font():
        return
    with _cache_lock:
        if key is None or data is None:
            _fallback = None
            _FAMILIES.pop(FALLBACK_FAMILY, None)
            _FALLBACK = tuple(f for f in _FALLBACK if f != FALLBACK_FAMILY)
        else:
            name = f"CertFallback-{key[:16]}"
            try:
                pdfmetrics.getFont(name)
            except KeyError:
                font = _Font(name, io.BytesIO(data), subfontIndex=0)
                font.face.__class__ = _CachingFace
                font.face.filename = f"fallback:{key}"  # the subset cache's key
                pdfmetrics.registerFont(font)
                _COVERAGE[name] = font.face.charToGlyph
            _fallback = (key, name)
            _FAMILIES[FALLBACK_FAMILY] = {REGULAR: (name, "")}
            _FALLBACK = (*(f for f in _FALLBACK if f != FALLBACK_FAMILY), FALLBACK_FAMILY)
    text_runs.cache_clear()
    text_width.cache_clear()


def covers(font: str, char: str) -> bool:
    """Whether ``font`` (a registered certificate font) has a glyph for ``char``."""
    register_fonts()
    return ord(char) in _COVERAGE[font]


@dataclass(frozen=True)
class Run:
    """Consecutive characters of a line set in the same font family."""

    text: str
    family: str

    @property
    def rtl(self) -> bool:
        return self.family in _RIGHT_TO_LEFT


def _family_for(char: str, current: str | None, style: str) -> str:
    code = ord(char)
    category = unicodedata.category(char)
    # Spaces, punctuation and combining marks stay in the run they are in when its font has
    # them (a space between two Arabic words belongs to the Arabic run); so do digits, except
    # in a right-to-left run (HarfBuzz would set them right to left).
    if (
        current is not None
        and not category.startswith("L")
        and not (category == "Nd" and current in _RIGHT_TO_LEFT)
        and code in _COVERAGE[font_name(current, style)]
    ):
        return current
    for family in _FALLBACK:
        if code in _COVERAGE[font_name(family, style)]:
            return family
    return current or "serif"  # no font has it: see missing_glyphs()


@lru_cache(maxsize=4096)
def text_runs(text: str, style: str = REGULAR) -> tuple[Run, ...]:
    """``text`` cut into runs by the font that has each character, in logical order.

    Spaces after a right-to-left run go to the next run: the line is left to right (a
    certificate is), so they belong between the two runs, not inside the shaped one.
    """
    register_fonts()
    if not text:
        return ()
    serif = _COVERAGE[font_name("serif", style)]
    if all(ord(char) in serif for char in text):
        return (Run(text, "serif"),)
    runs: list[Run] = []
    family: str | None = None
    chars: list[str] = []
    for char in text:
        wanted = _family_for(char, family, style)
        if chars and wanted != family:
            runs.append(Run("".join(chars), family or "serif"))
            chars = []
        family = wanted
        chars.append(char)
    runs.append(Run("".join(chars), family or "serif"))
    for i in range(len(runs) - 1):
        run = runs[i]
        kept = run.text.rstrip()
        if run.rtl and kept and kept != run.text:
            runs[i] = Run(kept, run.family)
            runs[i + 1] = Run(run.text[len(kept) :] + runs[i + 1].text, runs[i + 1].family)
    return tuple(runs)


def missing_glyphs(text: str, style: str = BOLD) -> list[str]:
    """The characters of ``text`` that no certificate font can print (shown as boxes)."""
    return [
        char
        for run in text_runs(text, style)
        for char in run.text
        if ord(char) not in _COVERAGE[font_name(run.family, style)]
    ]


@dataclass(frozen=True)
class _Piece:
    text: str  # a ReportLab ShapedStr for a shaped run
    font: str
    width: float


# Every run is shaped by HarfBuzz (Indic conjuncts and vowel signs, Thai and Khmer marks,
# Latin combining accents placed by the font), without the optional ligatures ("liga",
# "dlig": the Allah ligature of Naskh): every glyph then stands for one letter, so copying
# gives the name letter for letter in every PDF reader. Joining forms and marks stay.
_FEATURES = {"kern": True, "liga": False, "dlig": False}


@lru_cache(maxsize=1024)
def _shaped(text: str, font: str) -> tuple[str, float]:
    """``text`` shaped by HarfBuzz (glyphs in visual order, as a ReportLab ShapedStr) and its
    advance in thousandths of the font size (shaping does not depend on the size)."""
    shaped = shapeFragWord(
        [pdfmetrics.stringWidth(text, font, 10), (ABag(fontName=font, fontSize=10), text)],
        features=_FEATURES,
    )[1][1]
    data = getattr(shaped, "__shapeData__", None)
    if not data:
        return shaped, pdfmetrics.stringWidth(text, font, 1000)
    shaped = _keep_invisible_characters(font, text, shaped, data)
    _note_private_glyphs(font, text, shaped, data)
    return shaped, sum(d.x_advance for d in data)


def _keep_invisible_characters(font: str, text: str, shaped: Any, data: list[Any]) -> Any:
    """HarfBuzz draws a zero width non-joiner (and other invisible format characters) as a
    zero-width space glyph. Give that glyph a private code of its own, which the ToUnicode
    map turns back into the character, so copying gives it (the font's own glyph for U+200C
    is a visible mark)."""
    chars = list(shaped)
    changed = False
    for i, (char, d) in enumerate(zip(shaped, data, strict=False)):
        source = text[d.cluster] if 0 <= d.cluster < len(text) else ""
        if char == " " and source != " " and unicodedata.category(source) == "Cf":
            ttf = pdfmetrics.getFont(font)
            space = ttf.face.charToGlyph[0x20]
            chars[i] = chr(ttf.hbAddPrivate(f"invisible-{ord(source):04X}", space, 0))
            data[i] = d._replace(width=0)
            changed = True
    return ShapedStr("".join(chars), shapeData=data) if changed else shaped


def _note_private_glyphs(font: str, text: str, shaped: str, data: list[Any]) -> None:
    """Remember the letters behind each glyph HarfBuzz gave that has no code point of its own
    (ReportLab numbers those in the private use area), for the ToUnicode map."""
    starts = sorted({d.cluster for d in data})
    ends = dict(zip(starts, [*starts[1:], len(text)], strict=True))
    private = _PRIVATE_TEXT.setdefault(font, {})
    for char, d in zip(shaped, data, strict=False):
        code = ord(char)
        if 0xE000 <= code <= 0xF8FF and code not in private and d.cluster in ends:
            private[code] = text[d.cluster : ends[d.cluster]]


def _pieces(text: str, style: str, size: float) -> tuple[list[_Piece], float]:
    """The line's pieces from left to right and its width.

    A line is left to right (the certificate's languages are), as a browser shows the name in
    the application's pages: each right-to-left run is shaped and set right to left in its
    place.
    """
    pieces = []
    for run in text_runs(text, style):
        font = font_name(run.family, style)
        shaped, advance = _shaped(run.text, font)
        pieces.append(_Piece(shaped, font, advance * size / 1000))
    return pieces, sum(p.width for p in pieces)


@lru_cache(maxsize=8192)
def text_width(text: str, style: str, size: float) -> float:
    """The width of ``text`` set at ``size`` (cached: wrapping measures the same words for
    every certificate of a cohort)."""
    if not text:
        return 0.0
    return _pieces(text, style, size)[1]


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
        "code": "Verification code",
        "eu": "Funded by|the European Union",
    },
    "ru": {
        "title": "Сертификат об окончании",
        "certify": "Настоящим удостоверяется, что",
        "completed": "успешно завершил(а) программу",
        "completed:male": "успешно завершил программу",
        "completed:female": "успешно завершила программу",
        "hours": "{hours} ч.",
        "modules": "Модули",
        "partners": "В партнёрстве с",
        "funders": "При финансовой поддержке",
        "serial": "Сертификат №",
        "issued": "Выдан",
        "verify": "Проверка",
        "code": "Код проверки",
        "eu": "Финансируется|Европейским союзом",
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
        "code": "Yoxlama kodu",
        "eu": "Avropa İttifaqı|tərəfindən maliyyələşdirilir",
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


def label(langs: list[str], key: str, sep: str = " / ", *, sex: str = "", **kw: Any) -> str:
    """The label in each language; ``sex`` ("male", "female") picks the wording of a
    language that agrees with it (Russian "завершил" / "завершила") where there is one."""
    return sep.join(
        _LABELS[lang].get(f"{key}:{sex}", _LABELS[lang][key]).format(**kw) for lang in langs
    )


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


# ------------------------------------------------------------------------------ images

_IMAGES: OrderedDict[str, _Image | None] = OrderedDict()
IMAGE_CACHE_SIZE = 64
# Larger images are scaled down (a logo is printed at most ~4 cm wide).
MAX_IMAGE_SIDE = 1200


@dataclass(frozen=True)
class _Image:
    """An image ready to be written into any PDF: its XObject (and soft mask) templates,
    copied into each document, so the pixels are decoded and compressed once per process."""

    name: str
    width: int
    height: int
    xobject: pdfdoc.PDFImageXObject
    smask: pdfdoc.PDFImageXObject | None


def _xobject(name: str, image: Image.Image, content: bytes, filters: tuple[str, ...]) -> Any:
    obj = pdfdoc.PDFImageXObject(name)
    obj.width, obj.height = image.size
    obj.bitsPerComponent = 8
    obj.colorSpace = "DeviceGray" if image.mode == "L" else "DeviceRGB"
    obj.streamContent = content
    obj._filters = filters
    obj.mask = None
    return obj


def _prepare_image(key: str, data: bytes) -> _Image | None:
    """Decode ``data`` (PNG or JPEG) into PDF image objects; None when it cannot be read."""
    try:
        source = Image.open(io.BytesIO(data))
        source.load()
        image = ImageOps.exif_transpose(source) or source
    except Exception:  # an unreadable image is left out rather than failing the certificate
        log.warning("certificate image %s cannot be read; it is left out", key)
        return None
    name = f"CertImg{key[:24]}"
    if (
        source.format == "JPEG"
        and image is source
        and source.mode in ("RGB", "L")
        and max(source.size) <= MAX_IMAGE_SIDE
    ):
        # JPEG goes into the PDF as it is.
        return _Image(name, *source.size, _xobject(name, source, data, ("DCTDecode",)), None)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    alpha = None
    if image.mode in ("RGBA", "LA", "PA"):
        alpha = image.getchannel("A")
        if alpha.getextrema() == (255, 255):
            alpha = None
    if image.mode not in ("RGB", "L"):
        image = image.convert("L" if image.mode in ("LA", "I", "I;16") else "RGB")
    if max(image.size) > MAX_IMAGE_SIDE:
        scale = MAX_IMAGE_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS)
        alpha = alpha.resize(size, Image.Resampling.LANCZOS) if alpha is not None else None
    xobject = _xobject(name, image, zlib.compress(image.tobytes()), ("FlateDecode",))
    smask = None
    if alpha is not None:
        smask = _xobject(f"{name}M", alpha, zlib.compress(alpha.tobytes()), ("FlateDecode",))
        xobject.smask = pdfdoc.PDFObjectReference(pdfdoc.xObjectName(smask.name))
    return _Image(name, *image.size, xobject, smask)


def has_image(key: str) -> bool:
    """Whether the image of this SHA-256 is prepared in this process (no need to load it)."""
    with _cache_lock:
        return key in _IMAGES


def _image(key: str | None, images: Mapping[str, bytes]) -> _Image | None:
    if not key:
        return None
    with _cache_lock:
        if key in _IMAGES:
            _IMAGES.move_to_end(key)
            return _IMAGES[key]
    data = images.get(key)
    if data is None:
        log.warning("certificate image %s is missing; it is left out", key)
        return None
    return _cached(_IMAGES, key, lambda: _prepare_image(key, data), IMAGE_CACHE_SIZE)


def image_keys(snapshot: Mapping[str, Any]) -> list[str]:
    """The SHA-256 of every image the snapshot prints (logo, signatures, funders' logos)."""
    keys = [snapshot.get("logo")]
    keys += [s.get("signature") for s in snapshot.get("signatories") or [] if isinstance(s, dict)]
    keys += [f.get("logo") for f in snapshot.get("funding") or [] if isinstance(f, dict)]
    return [k for k in keys if isinstance(k, str) and k]


def draw_image(
    c: Canvas, image: _Image, x: float, y: float, max_w: float, max_h: float, anchor: str = "n"
) -> tuple[float, float]:
    """Draw ``image`` inside the box (``x``, ``y`` its bottom-left corner), keeping its
    proportions, against the box's top-left (``anchor="nw"``) or top middle (``"n"``) or
    bottom middle (``"s"``); returns the size drawn."""
    scale = min(max_w / image.width, max_h / image.height)
    w, h = image.width * scale, image.height * scale
    left = x if anchor == "nw" else x + (max_w - w) / 2
    bottom = y if anchor == "s" else y + max_h - h
    doc = c._doc
    reg = doc.getXObjectName(image.name)
    if reg not in doc.idToObject:
        doc.Reference(copy.copy(image.xobject), reg)
        if image.smask is not None:
            doc.Reference(copy.copy(image.smask), doc.getXObjectName(image.smask.name))
    c._currentPageHasImages = 1
    if _BOXES is not None:
        _BOXES.append((f"image {image.name}", left, bottom, left + w, bottom + h))
    c._code.append(f"q {_num(w)} 0 0 {_num(h)} {_num(left)} {_num(bottom)} cm /{reg} Do Q")
    c._formsinuse.append(image.name)
    return w, h


def _num(value: float) -> str:
    """A number as PDF operators write it (at most 3 decimals, no trailing zeros)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


# ------------------------------------------------------------------------------ drawing

INK = Color(0.11, 0.15, 0.25)  # deep navy
MUTED = Color(0.36, 0.39, 0.45)
GOLD = Color(0.69, 0.55, 0.28)
MARGIN = 28
TEXT_WIDTH = PAGE_W - 2 * 90


# While a test records (``record_text_boxes``): (text, left, bottom, right, top) of each line.
_BOXES: list[tuple[str, float, float, float, float]] | None = None


def record_text_boxes(boxes: list[tuple[str, float, float, float, float]] | None) -> None:
    """Collect the box of every line drawn into ``boxes`` (None: stop); for layout tests."""
    global _BOXES
    _BOXES = boxes


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
) -> float:
    """Draw ``text`` at ``y``, centred on ``x`` (or starting or ending there with ``align``
    "left" or "right"), shrunk to fit ``width``; return the size used.

    Each run is set in the font that has its letters.
    """
    if not text:
        return 0
    pieces, total = _pieces(text, style, size)
    if width is not None and total > width:
        size = max(minimum, size * width / total)
        pieces, total = _pieces(text, style, size)
    left = x - total / 2 if align == "centre" else x - total if align == "right" else x
    if _BOXES is not None:
        _BOXES.append((text, left, y - 0.3 * size, left + total, y + 0.8 * size))
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
    c: Canvas,
    y: float,
    text: str,
    style: str = REGULAR,
    size: float = 10,
    colour: Color = INK,
    width: float = TEXT_WIDTH,
    minimum: float = 7,
) -> float:
    """Draw ``text`` centred on the page at ``y``, shrunk to fit ``width``."""
    return draw_text(c, PAGE_W / 2, y, text, style, size, colour, width=width, minimum=minimum)


def wrap(text: str, style: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and text_width(candidate, style, size) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return [*lines, line] if line else lines


def balanced(text: str, style: str, size: float, width: float) -> list[str]:
    """``text`` on one line if it fits, else on two lines of similar width."""
    words = text.split()
    if len(words) < 2 or text_width(text, style, size) <= width:
        return [text] if text else []

    def widest(i: int) -> float:
        return max(text_width(" ".join(part), style, size) for part in (words[:i], words[i:]))

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
    if _BOXES is not None:
        _BOXES.append(("QR code", x, y, x + size, y + size))
    ops = [f"q 0 0 0 rg {module:.5f} 0 0 {module:.5f} {_num(x)} {_num(y)} cm"]
    ops += [f"{col} {count - row - 1} {length} 1 re" for row, col, length in runs]
    ops.append("f Q")
    c._code.append("\n".join(ops))


def _names(items: Iterable[Any]) -> str:
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


def draw_signatories(
    c: Canvas,
    signatories: list[dict[str, Any]],
    y: float,
    images: Mapping[str, bytes],
    room: float,
) -> None:
    """Signature lines with names and titles, spread across the middle of the page; a
    signature image sits on its line (at most ``room`` points high)."""
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
        name = str(person.get("name") or "")
        draw_text(c, mid, y - 13, name, BOLD, 10, width=slot * 0.9, minimum=4)
        # A long title takes two lines (and shrinks only if two are not enough).
        title = balanced(str(person.get("title") or ""), ITALIC, 8.5, slot * 0.9)
        for j, line in enumerate(title[:2]):
            draw_text(c, mid, y - 24 - 9.5 * j, line, ITALIC, 8, MUTED, width=slot * 0.9, minimum=4)


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
    if _BOXES is not None:
        _BOXES.append(("EU emblem", x, y, x + width, y + height))
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
    names = [
        str(f.get("name"))
        for f in funding
        if not f.get("eu") and f.get("name") and _image(f.get("logo"), images) is None
    ]
    logos_shown = any(not f.get("eu") and _image(f.get("logo"), images) for f in funding)
    if names or logos_shown:
        text = f"{label(langs, 'funders')}:"
        if names:
            text = f"{text} {_names(names)}"
        centred(c, BAND_LABEL_Y, text, REGULAR, 8, MUTED, width=width, minimum=5)
        top = BAND_TOP
    else:
        top = BAND_TOP + 12
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
    black = Color(0, 0, 0)
    for item in items:
        if item.kind == "eu":
            h = item.height
            draw_eu_emblem(c, cursor, middle_y - h / 2, h)
            pitch = item.size * 1.2
            first = middle_y + pitch * (len(item.text) - 1) / 2 - item.size * 0.3
            for i, line in enumerate(item.text):
                draw_text(
                    c,
                    cursor + h * 1.75,
                    first - pitch * i,
                    line,
                    REGULAR,
                    item.size,
                    black,
                    align="left",
                    minimum=1,
                )
            cursor += item.width + BAND_GAP
        elif item.image is not None:
            w, h = item.width * scale, item.height * scale
            draw_image(c, item.image, cursor, middle_y - h / 2, w, h)
            cursor += w + BAND_GAP


def render_certificate(
    snapshot: dict[str, Any],
    verification_url: str,
    images: Mapping[str, bytes] | bytes | None = None,
) -> bytes:
    """The certificate's PDF (identical bytes for identical arguments).

    ``images``: {sha256: bytes} of the images the snapshot names (``image_keys``); images
    already prepared in this process need not be given. Raw ``bytes`` are taken as the logo.
    """
    register_fonts()
    logo_key = snapshot.get("logo")
    if isinstance(images, bytes | bytearray):
        logo_key = hashlib.sha256(images).hexdigest()
        images = {logo_key: bytes(images)}
    images = images or {}
    langs = languages(snapshot.get("language", "en"))
    holder = snapshot.get("holder") or {}
    programme = snapshot.get("programme") or {}
    cohort = snapshot.get("cohort") or {}
    issuer = (snapshot.get("issuer") or {}).get("name") or ""

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
    c.setAuthor(issuer or _names(programme.get("partners", [])) or programme.get("title", ""))
    c.setSubject(str(holder.get("name") or ""))
    c.setCreator("trainingmgr")
    issued_on = str(snapshot.get("issued_on") or "")
    if issued_on:  # the metadata dates are the date of issue
        stamp = f"D:{issued_on.replace('-', '')}000000Z"
        c.setDateFormatter(lambda *_args: stamp)

    static(c, draw_border)
    logo = _image(logo_key, images)
    if logo is not None:
        draw_image(c, logo, MARGIN + 22, PAGE_H - MARGIN - 18 - 52, 110, 52, anchor="nw")

    # The issuing organisation, then the partners.
    partners = programme.get("partners", [])
    if issuer:
        centred(c, PAGE_H - 72, issuer.upper(), BOLD, 10.5, INK, width=PAGE_W - 2 * 180)
    if partners:
        text = f"{label(langs, 'partners')}: {_names(partners)}"
        centred(c, PAGE_H - 88, text, REGULAR, 8, MUTED, width=PAGE_W - 2 * 180)
    y = PAGE_H - 142
    centred(c, y, upper(_LABELS[langs[0]]["title"], langs[0]), BOLD, 28)
    if len(langs) > 1:
        y -= 22
        centred(c, y, upper(_LABELS[langs[1]]["title"], langs[1]), REGULAR, 14, MUTED)
    static(c, ornament, y - 16)

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

    sex = str(holder.get("sex") or "")
    y -= 38
    centred(c, y, label(langs, "completed", sep="  ·  ", sex=sex), ITALIC, 12, MUTED)
    y -= 28
    for line in balanced(str(programme.get("title") or ""), BOLD, 18, PAGE_W - 220):
        centred(c, y, line, BOLD, 18)
        y -= 22

    period = " / ".join(
        fmt_period(cohort.get("start_date"), cohort.get("end_date"), lang) for lang in langs
    )
    hours = snapshot.get("hours")
    facts = [cohort.get("name", ""), cohort.get("place", ""), period]
    if hours:
        facts.append(label(langs, "hours", hours=hours))
    y -= 2
    centred(c, y, "  ·  ".join(str(f) for f in facts if f), REGULAR, 10.5, INK)
    lowest = y

    modules = snapshot.get("modules", [])
    if modules:
        text = (
            label(langs, "modules")
            + ": "
            + "; ".join(" ".join(p for p in (m.get("code"), m.get("title")) if p) for m in modules)
        )
        y -= 15
        # As many lines (at most 3) as fit above the signatories' names and titles.
        room_lines = max(1, min(3, int((y - (SIGNATURE_LINE_Y + 14)) // 10.5) + 1))
        for size in (8, 7.5, 7, 6.5, 6):  # smaller letters before a line is squeezed
            lines_m = wrap(text, REGULAR, size, PAGE_W - 200)
            if len(lines_m) <= room_lines:
                break
        if len(lines_m) > room_lines:
            lines_m = lines_m[: room_lines - 1] + [" ".join(lines_m[room_lines - 1 :])]
        for line in lines_m:
            centred(c, y, line, REGULAR, size, MUTED, width=PAGE_W - 200, minimum=1)
            lowest = y
            y -= size + 2.5

    # Signature images fit between the line and the text above it.
    room = min(SIGNATURE_MAX_H, lowest - 6 - (SIGNATURE_LINE_Y + 2))
    draw_signatories(c, snapshot.get("signatories") or [], SIGNATURE_LINE_Y, images, room)

    # Footer: serial, date and verification code on the left, funders in the middle, the QR
    # code and its address on the right; each in its own column.
    left = MARGIN + 26
    column = 215
    serial = f"{label(langs, 'serial')} {snapshot.get('serial', '')}"
    draw_text(c, left, 88, serial, BOLD, 9, INK, align="left", width=column)
    if issued_on:
        issued = " / ".join(fmt_day(issued_on, lang) for lang in langs)
        text = f"{label(langs, 'issued')}: {issued}"
        draw_text(c, left, 76, text, REGULAR, 8, MUTED, align="left", width=column)
    code = verification_url.rstrip("/").rsplit("/", 1)[-1]
    draw_text(
        c, left, 64, f"{label(langs, 'code')}: {code}", BOLD, 8, INK, align="left", width=column
    )
    funders = programme.get("funders", [])
    funding = [f for f in snapshot.get("funding") or [] if isinstance(f, dict)]
    middle = PAGE_W - 2 * (left + column + 16)
    if any(f.get("logo") or f.get("eu") for f in funding):
        draw_funders_band(c, funding, langs, images, left + column + 16, middle)
    elif funders:
        centred(c, 88, f"{label(langs, 'funders')}:", REGULAR, 8, MUTED, width=middle)
        for i, line in enumerate(wrap(_names(funders), BOLD, 9, middle)[:3]):
            centred(c, 76 - 12 * i, line, BOLD, 9, INK, width=middle)
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
        width=column,
        minimum=4,
    )

    c.showPage()
    # The page's operators, compressed but not ASCII85-encoded (smaller, and faster).
    page = c._doc.Pages.pages[-1]
    page.Contents = pdfdoc.PDFStream(content=page.stream, filters=[pdfdoc.PDFZCompress])
    c.save()
    return buf.getvalue()
