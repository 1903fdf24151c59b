"""Checking a font an administrator uploads as the certificates' fallback font.

Certificates embed TrueType outlines only (ReportLab cannot embed CFF/PostScript outlines),
so the file is parsed by ReportLab itself, as the renderer will use it: a font with CFF
outlines (most ``.otf`` files, Noto Sans CJK among them), a WOFF web font, a font whose
licence forbids embedding, a damaged file or something that is not a font is refused with a
message saying why. Size limit: ``MAX_FONT_MB`` (configuration, 30 MB by default).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import IO, Any

from flask import current_app
from flask_babel import gettext as _
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from trainingmgr.core.errors import DomainError
from trainingmgr.organisation.uploads import read_upload

ACCEPT = ".ttf,.otf,.ttc,font/ttf,font/otf,font/collection"

# Ranges a fallback font is usually uploaded for, to say what it covers.
_SCRIPTS: list[tuple[str, list[tuple[int, int]]]] = [
    ("Chinese", [(0x4E00, 0x9FFF), (0x3400, 0x4DBF)]),
    ("Japanese kana", [(0x3040, 0x30FF)]),
    ("Korean Hangul", [(0xAC00, 0xD7A3), (0x1100, 0x11FF)]),
]


@dataclass(frozen=True)
class CheckedFont:
    data: bytes
    name: str  # the font's own (PostScript) name
    characters: int  # how many characters it has
    scripts: dict[str, int]  # "Chinese" -> characters of that script it has


def max_bytes() -> int:
    return int(current_app.config.get("MAX_FONT_MB", 30)) * 1024 * 1024


def limits_text() -> str:
    return _(
        "A TrueType font (.ttf, or .otf/.ttc with TrueType outlines), at most %(mb)d MB.",
        mb=max_bytes() // (1024 * 1024),
    )


def parse(data: bytes, name: str) -> TTFont:
    """The font as ReportLab reads it (the first font of a collection)."""
    return TTFont(name, io.BytesIO(data), subfontIndex=0)


def validate_font(upload: bytes | IO[bytes] | Any, field: str | None = "font") -> CheckedFont:
    """Check an uploaded font; ``DomainError`` (on ``field``) with a message otherwise."""
    limit = max_bytes()
    data = read_upload(
        upload,
        limit,
        field,
        empty=_("The file is empty. Choose a TrueType font file."),
        too_large=_(
            "The font is larger than %(mb)d MB. Choose a font for the scripts you need "
            "(for example one for Chinese only) or a subset of it.",
            mb=limit // (1024 * 1024),
        ),
    )
    head = data[:4]
    if head in (b"wOFF", b"wOF2"):
        raise DomainError(
            _("This is a web font (WOFF). Upload the TrueType (.ttf) version of the font."),
            field,
        )
    if head == b"OTTO":
        raise DomainError(cff_message(), field)
    try:
        font = parse(data, "CertFallbackCheck")
    except TTFError as exc:
        text = str(exc)
        if "postscript outlines" in text:
            raise DomainError(cff_message(), field) from None
        if "subsetting" in text or "embedding" in text:
            raise DomainError(
                _(
                    "This font's licence does not allow embedding it in documents, so "
                    "certificates cannot use it. Choose another font."
                ),
                field,
            ) from None
        raise DomainError(
            _("This file is not a TrueType font, or it is damaged. Choose a .ttf font file."),
            field,
        ) from None
    except Exception:  # any parsing failure of a damaged file
        raise DomainError(
            _("This file is not a TrueType font, or it is damaged. Choose a .ttf font file."),
            field,
        ) from None
    codes = font.face.charToGlyph
    scripts = {
        script: sum(1 for code in codes if any(lo <= code <= hi for lo, hi in ranges))
        for script, ranges in _SCRIPTS
    }
    raw_name = font.face.name
    name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else str(raw_name)
    return CheckedFont(data, name[:250], len(codes), {k: v for k, v in scripts.items() if v})


def cff_message() -> str:
    return _(
        "This font has PostScript (CFF) outlines, which certificates cannot embed. Upload "
        "a font with TrueType outlines: for Chinese, Japanese or Korean for example Droid "
        "Sans Fallback, WenQuanYi Micro Hei or AR PL UMing (Noto Sans/Serif CJK .otf files "
        "have CFF outlines)."
    )
