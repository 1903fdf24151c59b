"""Text folding for search: case-, accent- and script-insensitive."""

from __future__ import annotations

import unicodedata

from anyascii import anyascii


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
    if latin and latin != words:
        words = f"{words} {' '.join(latin.split())}"
    return words


def fold_query(text: str) -> list[tuple[str, str]]:
    """The terms of a search query, each as (case-folded original, ASCII transliteration)."""
    terms: list[tuple[str, str]] = []
    for word in text.split():
        original = unicodedata.normalize("NFKC", word).casefold()
        latin = anyascii(word).casefold()
        terms.append((original, latin))
    return terms
