"""Text folding for search: case-, accent- and script-insensitive."""

from __future__ import annotations

import unicodedata

from anyascii import anyascii

# Romanisations people commonly use that anyascii does not give: Azerbaijani "Ə" as "a"
# (Əliyeva -> Aliyeva), Ukrainian "И" as "y", "Ї" as "yi" and "Є" as "ye" (Їжакевич ->
# Yizhakevych, as in Ukrainian passports). Added to the search key as a further variant.
_ALTERNATES = str.maketrans(
    {"ə": "a", "Ə": "A", "и": "y", "И": "Y", "ї": "yi", "Ї": "Yi", "є": "ye", "Є": "Ye"}
)


# Invisible characters dropped from typed or imported names: byte order mark, zero width
# space, word joiner, soft hyphen. The zero width non-joiner and joiner (U+200C, U+200D) are
# kept: they are part of how Persian, Indic and other names are spelt (محمدی‌پور, ශ්‍රී).
INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u2060\u00ad"), None)


def clean_text(text: str | None) -> str:
    """``text`` in NFC without the invisible characters above and without surrounding
    spaces (as people's names are stored, typed in a form or imported)."""
    return unicodedata.normalize("NFC", (text or "").translate(INVISIBLE)).strip()


def fold(text: str | None) -> str:
    """Fold ``text`` for matching: "Əliyeva", "ALIYEVA" and "aliyeva" all fold alike.

    The result keeps the case-folded original (so a search in Cyrillic finds Cyrillic) and
    adds an ASCII transliteration (so "petrov" finds "Петров" and "yilmaz" finds "Yılmaz").
    """
    if not text:
        return ""
    original = unicodedata.normalize("NFKC", text).casefold()
    latin = anyascii(text).casefold()
    words = " ".join(original.split())
    for variant in (latin, anyascii(text.translate(_ALTERNATES)).casefold()):
        variant = " ".join(variant.split())
        if variant and variant not in words:
            words = f"{words} {variant}"
    return words


def fold_query(text: str) -> list[tuple[str, str]]:
    """The terms of a search query, each as (case-folded original, ASCII transliteration)."""
    terms: list[tuple[str, str]] = []
    for word in text.split():
        original = unicodedata.normalize("NFKC", word).casefold()
        latin = anyascii(word).casefold()
        terms.append((original, latin))
    return terms


def html_escape(value: object) -> str:
    """``value`` as HTML text, escaped exactly as markupsafe's ``escape`` (``&#39;``,
    ``&#34;``) but as a plain ``str``: for rows written with ``str.format`` by the thousand,
    where building a ``Markup`` for each value was most of the time."""
    text = value if isinstance(value, str) else str(value)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )
