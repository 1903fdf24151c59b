"""Showing UTC datetimes in a time zone, formatted for the user's locale."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import (
    format_date,
    format_datetime,
    format_interval,
    format_skeleton,
    format_time,
    get_timezone_name,
)
from flask_babel import get_locale


def _locale() -> str:
    try:
        return str(get_locale() or "en")
    except RuntimeError:  # outside a request
        return "en"


def local(value: datetime, tz: str) -> datetime:
    """``value`` (aware) converted to the IANA zone ``tz``."""
    return value.astimezone(ZoneInfo(tz))


# Pages show the same instants many times (a roster saved at once, a matrix's sessions):
# formatting is cached per value, zone, format and locale.
@lru_cache(maxsize=4096)
def _format_datetime(value: datetime, tz: str, fmt: str, locale: str) -> str:
    return format_datetime(local(value, tz), format=fmt, locale=locale)


@lru_cache(maxsize=4096)
def _format_time(value: datetime, tz: str, locale: str) -> str:
    return format_time(local(value, tz), format="HH:mm", locale=locale)


@lru_cache(maxsize=4096)
def _format_date(value: date, fmt: str, locale: str) -> str:
    return format_date(value, format=fmt, locale=locale)


def datetime_formatter(tz: str, fmt: str = "medium") -> Callable[[datetime], str]:
    """``fmt_datetime`` for many values of one page: the locale is looked up once."""
    locale = _locale()
    return lambda value: _format_datetime(value, tz, fmt, locale)


def date_formatter(tz: str, fmt: str = "medium") -> Callable[[datetime], str]:
    """``fmt_date`` of datetimes for many values of one page (the locale looked up once)."""
    locale = _locale()
    return lambda value: _format_date(local(value, tz).date(), fmt, locale)


def time_formatter(tz: str) -> Callable[[datetime], str]:
    """``fmt_time`` for many values of one page (the locale looked up once)."""
    locale = _locale()
    return lambda value: _format_time(value, tz, locale)


def fmt_datetime(value: datetime | None, tz: str, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return _format_datetime(value, tz, fmt, _locale())


def fmt_time(value: datetime | None, tz: str) -> str:
    if value is None:
        return ""
    return _format_time(value, tz, _locale())


def fmt_date(value: date | datetime | None, tz: str | None = None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value, tz or "UTC").date()
    return _format_date(value, fmt, _locale())


def fmt_day(value: datetime | None, tz: str) -> str:
    """The local weekday and date, in the locale's own order: "Mon 2 Mar 2026" (en-GB),
    "Mon, Mar 2, 2026" (en-US)."""
    if value is None:
        return ""
    return format_skeleton("yMMMEd", local(value, tz), locale=_locale())


def fmt_date_range(start: date | None, end: date | None) -> str:
    """A compact period for the user's locale: "Nov 22 – 24, 2026"."""
    if start is None or end is None:
        return fmt_date(start or end)
    return format_interval(start, end, skeleton="yMMMd", locale=_locale())


def fmt_zone(tz: str) -> str:
    """A short readable zone name, e.g. "Azerbaijan Time (Baku)"."""
    try:
        return f"{get_timezone_name(ZoneInfo(tz), locale=_locale())}"
    except (LookupError, ValueError):
        return tz


_ZONES: frozenset[str] | None = None


def is_valid_timezone(name: str) -> bool:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return name in _ZONES
