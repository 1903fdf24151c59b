"""Showing numbers: the one way, in the user's locale (Babel's patterns through Flask-Babel's
locale).

- ``fmt_number(value)``: a count or amount with the locale's grouping, at most two decimals
  and no trailing zeros: "1,234", "12.5" (en), "1 234", "12,5" (ru);
- ``fmt_number(value, "#,##0.#")``: another Babel pattern;
- ``fmt_percent(value)``: a rate with one decimal, "87.5%".

A pattern is parsed once, not on every call: a report shows several hundred figures.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from babel.numbers import NumberPattern, parse_pattern
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
