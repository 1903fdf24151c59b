"""Fonts: registration, subsets and ToUnicode maps, the uploaded fallback font, runs of text
by the font that has each letter, HarfBuzz shaping of right-to-left runs, text widths."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

from reportlab.lib.abag import ABag
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import (
    FF_NONSYMBOLIC,
    FF_SYMBOLIC,
    SUBSETN,
    ShapedStr,
    TTFont,
    TTFontFace,
    shapeFragWord,
)

from trainingmgr.certificates.pdf.base import FONT_DIR, _cache_lock, _cached, _subset_lock

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

# The scripts besides Latin, Greek and Cyrillic (the serif family's), each a family with a
# regular and a bold face: (script, the name its files start with), in the order a letter is
# looked for in them.
_SCRIPTS = (
    ("Georgian", "NotoSerifGeorgian"),
    ("Armenian", "NotoSerifArmenian"),
    ("Arabic", "NotoNaskhArabic"),
    ("Ethiopic", "NotoSerifEthiopic"),
    ("Hebrew", "NotoSerifHebrew"),
    *((script, f"NotoSerif{script}") for script in _INDIC_AND_SOUTHEAST_ASIAN),
)

# family -> style -> (registered font name, file). A family without an italic uses its
# regular face for italic text.
_FAMILIES: dict[str, dict[str, tuple[str, str]]] = {
    "serif": {
        REGULAR: (SERIF, "NotoSerif-Regular.ttf"),
        BOLD: (SERIF_BOLD, "NotoSerif-Bold.ttf"),
        ITALIC: (SERIF_ITALIC, "NotoSerif-Italic.ttf"),
    },
    **{
        script.lower(): {
            REGULAR: (f"Cert{script}", f"{files}-Regular.ttf"),
            BOLD: (f"Cert{script}-Bold", f"{files}-Bold.ttf"),
        }
        for script, files in _SCRIPTS
    },
}
# The font tried first for a letter, then the others in this order.
_FALLBACK = ("serif", *(script.lower() for script, _files in _SCRIPTS))
_RIGHT_TO_LEFT = frozenset({"arabic", "hebrew"})


@dataclass(frozen=True)
class Typesetting:
    """How a layout sets its lines: ``families``, the font families tried for a letter in
    that order (None: every shipped family, then the uploaded fallback font), and whether
    every run is shaped by HarfBuzz (``shape_all``) or only the right-to-left ones."""

    families: tuple[str, ...] | None = None
    shape_all: bool = True


# Layout 2 (the current one).
CURRENT = Typesetting()

# The attribute of a ReportLab document whose fonts' subsets are tagged AAAAAA, AAAAAB, ...
# in the order of the document (ReportLab's own tags) instead of by ``subset_tag``.
_SEQUENTIAL_TAGS = "_trainingmgr_sequential_subset_tags"


def use_sequential_subset_tags(doc: Any) -> None:
    """Tag the font subsets of ``doc`` (a ReportLab ``PDFDocument``) as ReportLab does,
    by their number (for the frozen layout 1)."""
    setattr(doc, _SEQUENTIAL_TAGS, True)


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
            if getattr(doc, _SEQUENTIAL_TAGS, False):
                tag = SUBSETN(n)
            else:
                tag = subset_tag(self.face.name, [self.face.charToGlyph.get(c, 0) for c in subset])
            base_font = b"".join(
                (
                    tag,
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


def _family_for(char: str, current: str | None, style: str, families: tuple[str, ...]) -> str:
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
    for family in families:
        if code in _COVERAGE[font_name(family, style)]:
            return family
    return current or "serif"  # no font has it: see missing_glyphs()


# Emoji and other pictographs (So), skin tones (Sk), and the marks that only dress them:
# variation selectors (text or emoji style) and the combining keycap.
_SYMBOL_CATEGORIES = frozenset({"So", "Sk"})
_SYMBOL_MARKS = frozenset({"\ufe0e", "\ufe0f", "\u20e3"})


def _without_unprintable_symbols(text: str, style: str, families: tuple[str, ...]) -> str:
    """``text`` without the symbols no certificate font has (an emoji in a module's title):
    left out rather than printed as boxes. Letters are kept (``missing_glyphs`` names them),
    and so is a symbol a font has."""

    def printable(char: str) -> bool:
        if char not in _SYMBOL_MARKS and unicodedata.category(char) not in _SYMBOL_CATEGORIES:
            return True
        return any(ord(char) in _COVERAGE[font_name(f, style)] for f in families)

    kept = "".join(char for char in text if printable(char))
    # The spaces around a symbol left out: one between words, none at either end.
    return text if kept == text else re.sub(" {2,}", " ", kept).strip(" ")


@lru_cache(maxsize=4096)
def text_runs(text: str, style: str = REGULAR, setting: Typesetting = CURRENT) -> tuple[Run, ...]:
    """``text`` cut into runs by the font that has each character, in logical order (the
    fonts tried are ``setting.families``).

    Spaces after a right-to-left run go to the next run: the line is left to right (a
    certificate is), so they belong between the two runs, not inside the shaped one.
    """
    register_fonts()
    if not text:
        return ()
    serif = _COVERAGE[font_name("serif", style)]
    if all(ord(char) in serif for char in text):
        return (Run(text, "serif"),)
    families = _FALLBACK if setting.families is None else setting.families
    if setting == CURRENT:
        text = _without_unprintable_symbols(text, style, families)
        if not text:
            return ()
    runs: list[Run] = []
    family: str | None = None
    chars: list[str] = []
    for char in text:
        wanted = _family_for(char, family, style, families)
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


def _pieces(
    text: str, style: str, size: float, setting: Typesetting = CURRENT
) -> tuple[list[_Piece], float]:
    """The line's pieces from left to right and its width.

    A line is left to right (the certificate's languages are), as a browser shows the name in
    the application's pages: each right-to-left run is shaped and set right to left in its
    place. A run ``setting`` does not shape is set as its letters, with their widths.
    """
    pieces = []
    for run in text_runs(text, style, setting):
        font = font_name(run.family, style)
        if setting.shape_all or run.rtl:
            shaped, advance = _shaped(run.text, font)
            pieces.append(_Piece(shaped, font, advance * size / 1000))
        else:
            pieces.append(_Piece(run.text, font, pdfmetrics.stringWidth(run.text, font, size)))
    return pieces, sum(p.width for p in pieces)


@lru_cache(maxsize=8192)
def text_width(text: str, style: str, size: float, setting: Typesetting = CURRENT) -> float:
    """The width of ``text`` set at ``size`` (cached: wrapping measures the same words for
    every certificate of a cohort)."""
    if not text:
        return 0.0
    return _pieces(text, style, size, setting)[1]
