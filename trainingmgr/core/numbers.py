"""Showing numbers: the one way, in the user's locale (Babel's patterns through Flask-Babel's
locale).

- ``fmt_number(value)``: a count or amount with the locale's grouping, at most two decimals
  and no trailing zeros: "1,234", "12.5" (en), "1 234", "12,5" (ru);
- ``fmt_number(value, "#,##0.#")``: another Babel pattern;
- ``fmt_percent(value)``: a rate with one decimal, "87.5%".

Reading a number typed in a form: ``amount_text(text)`` (below).

A pattern is parsed once, not on every call: a report shows several hundred figures.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache

from babel.numbers import NumberPattern, get_group_symbol, parse_pattern
from flask_babel import get_locale

HOURS = "#,##0.##"


@cache
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


def fmt_number(value: Decimal | float | int, pattern: str = HOURS) -> str:
    """``value`` with ``pattern`` (a Babel number pattern) in the current locale; a Decimal
    loses its trailing zeros first ("12.50" shows as "12.5")."""
    if isinstance(value, Decimal):
        value = value.normalize()
    return str(_pattern(pattern).apply(value, get_locale()))


def fmt_percent(value: Decimal | float | int) -> str:
    """A rate with one decimal and the percent sign ("87.5%")."""
    return f"{fmt_number(value, '#,##0.0')}%"


_SPACES = re.compile(r"[\s\u00a0\u202f']")  # digits grouped by spaces or apostrophes


def _grouped(separator: str) -> re.Pattern[str]:
    """Digits grouped by three with ``separator`` ("1,319,151"), perhaps signed."""
    return re.compile(rf"[-+]?\d{{1,3}}(?:{re.escape(separator)}\d{{3}})+")


_GROUPED = {",": _grouped(","), ".": _grouped(".")}


def amount_text(text: str, locale: str | None = None) -> str:
    """An amount typed in the reader's language as Python reads it ("1319151.36"), or
    ``text`` without its spaces when it is no amount (the caller refuses it).

    Spaces and apostrophes group digits. With both a comma and a point, the last one is the
    decimal mark and the other must group thousands ("1,319,151.36", "1.319.151,36"). A
    comma or a point alone is the decimal mark ("1 319 151,36", "1,5", "12.5") unless it is
    the language's own thousands separator and groups thousands ("1,319,151" in English,
    "1.319.151" in Azerbaijani).
    """
    raw = _SPACES.sub("", text)
    marks = [mark for mark in (",", ".") if mark in raw]
    if len(marks) == 2:
        last = max(marks, key=raw.rfind)
        other = "." if last == "," else ","
        whole, _mark, fraction = raw.rpartition(last)
        if _GROUPED[other].fullmatch(whole) and fraction.isdigit():
            return f"{whole.replace(other, '')}.{fraction}"
        return raw
    if marks:
        [mark] = marks
        group = get_group_symbol(locale or get_locale() or "en")
        if mark == group and _GROUPED[mark].fullmatch(raw):
            return raw.replace(mark, "")
        if raw.count(mark) == 1:
            return raw.replace(mark, ".")
    return raw
