"""Showing dates and times: the one way, in the user's locale (Babel through Flask-Babel).

Every page, e-mail and export for people shows

- a date as ``fmt_date``: "Dec 6, 2026" (en), "6 дек. 2026 г." (ru), "6 dek 2026" (az);
- a day as ``fmt_day``: the date with its weekday, "Sun, Dec 6, 2026" (e-mail subjects, schedules);
- a moment as ``fmt_datetime``: the date and the 24-hour time, "Dec 6, 2026, 04:36";
- a time of day as ``fmt_time``: "04:36";
- a compact date as ``fmt_short_day``: "Dec 6" (the columns of a matrix);

each in the time zone given, converted from stored UTC. ``zone_note(tz)`` names the zone,
"(Azerbaijan Time)", when it is not the viewer's own (``viewer_timezone``). Templates use
them as the filters ``local_date``, ``local_day``, ``local_datetime``, ``local_time``,
``local_short_day``, ``zone_name`` and ``zone_note`` (``trainingmgr.templating``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from difflib import get_close_matches
from functools import cache, lru_cache
from importlib import resources
from zoneinfo import ZoneInfo, available_timezones

from babel.dates import (
    format_interval,
    format_skeleton,
    format_time,
    get_datetime_format,
    get_timezone_name,
)
from flask_babel import get_locale


def locale_name() -> str:
    """The locale of the request ("en" outside one)."""
    return _locale()


def _locale() -> str:
    try:
        return str(get_locale() or "en")
    except RuntimeError:  # outside a request
        return "en"


def local(value: datetime, tz: str) -> datetime:
    """``value`` (aware) converted to the IANA zone ``tz``."""
    return value.astimezone(ZoneInfo(tz))


DATE_SKELETON = "yMMMd"
DAY_SKELETON = "yMMMEd"
SHORT_DAY_SKELETON = "MMMd"
TIME_PATTERN = "HH:mm"


# Pages show the same instants many times (a roster saved at once, a matrix's sessions):
# formatting is cached per value, zone, skeleton and locale.
@lru_cache(maxsize=4096)
def _format_day(value: date, skeleton: str, locale: str) -> str:
    return format_skeleton(skeleton, value, locale=locale)


@lru_cache(maxsize=4096)
def _format_time(value: datetime, tz: str, locale: str) -> str:
    return format_time(local(value, tz), format=TIME_PATTERN, locale=locale)


@lru_cache(maxsize=4096)
def _format_datetime(value: datetime, tz: str, locale: str) -> str:
    moment = local(value, tz)
    pattern = str(get_datetime_format("medium", locale=locale))
    return pattern.replace("{1}", _format_day(moment.date(), DATE_SKELETON, locale)).replace(
        "{0}", _format_time(value, tz, locale)
    )


def _day_of(value: date | datetime, tz: str | None) -> date:
    if isinstance(value, datetime):
        return local(value, tz or "UTC").date()
    return value


def datetime_formatter(tz: str) -> Callable[[datetime], str]:
    """``fmt_datetime`` for many values of one page: the locale is looked up once."""
    locale = _locale()
    return lambda value: _format_datetime(value, tz, locale)


def short_day_formatter(tz: str) -> Callable[[datetime], str]:
    """``fmt_short_day`` of datetimes for many values of one page (the locale looked up once)."""
    locale = _locale()
    return lambda value: _format_day(local(value, tz).date(), SHORT_DAY_SKELETON, locale)


def time_formatter(tz: str) -> Callable[[datetime], str]:
    """``fmt_time`` for many values of one page (the locale looked up once)."""
    locale = _locale()
    return lambda value: _format_time(value, tz, locale)


def fmt_datetime(value: datetime | None, tz: str) -> str:
    """The date and time of ``value`` in ``tz``: "Dec 6, 2026, 04:36"."""
    if value is None:
        return ""
    return _format_datetime(value, tz, _locale())


def fmt_time(value: datetime | None, tz: str) -> str:
    """The time of day of ``value`` in ``tz``, 24-hour: "04:36"."""
    if value is None:
        return ""
    return _format_time(value, tz, _locale())


def fmt_date(value: date | datetime | None, tz: str | None = None) -> str:
    """A date ("Dec 6, 2026"); a datetime's date in ``tz``."""
    if value is None:
        return ""
    return _format_day(_day_of(value, tz), DATE_SKELETON, _locale())


def fmt_day(value: date | datetime | None, tz: str | None = None) -> str:
    """The weekday and date, in the locale's own order: "Sun, Dec 6, 2026" (en),
    "вс, 6 дек. 2026 г." (ru)."""
    if value is None:
        return ""
    return _format_day(_day_of(value, tz), DAY_SKELETON, _locale())


def fmt_short_day(value: date | datetime | None, tz: str | None = None) -> str:
    """A compact date without the year, for the columns of a matrix: "Dec 6"."""
    if value is None:
        return ""
    return _format_day(_day_of(value, tz), SHORT_DAY_SKELETON, _locale())


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


# The organisation's default zone, when it has set one: registered by the organisation
# domain (``organisation/hooks.py``), so that core imports no domain.
_organisation_zone: Callable[[], str | None] = lambda: None  # noqa: E731


def organisation_zone(provider: Callable[[], str | None]) -> Callable[[], str | None]:
    """Register the function that gives the organisation's default zone (a decorator)."""
    global _organisation_zone
    _organisation_zone = provider
    return provider


def viewer_timezone(user: object = None) -> str:
    """The zone a viewer reads times in: their account's, else the organisation's default,
    else the ``DEFAULT_TIMEZONE`` setting, else UTC."""
    from flask import current_app, has_app_context

    if user is None and has_app_context():
        from flask_login import current_user

        user = current_user
    own = getattr(user, "timezone", None)
    if own and is_valid_timezone(str(own)):
        return current_name(str(own))
    if has_app_context():
        for name in (_organisation_zone(), current_app.config.get("DEFAULT_TIMEZONE")):
            if name and is_valid_timezone(str(name)):
                return current_name(str(name))
    return "UTC"


def zone_note(tz: str | None) -> str:
    """ "(Azerbaijan Time)" when ``tz`` is not the viewer's own zone, else nothing."""
    if not tz or current_name(tz) == viewer_timezone():
        return ""
    return f"({fmt_zone(tz)})"


_ZONES: frozenset[str] | None = None


def is_valid_timezone(name: str) -> bool:
    """A zone Python knows, current or deprecated (a stored "Asia/Calcutta" still works)."""
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return name in _ZONES


def _tzdata_text(name: str) -> str:
    return resources.files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")


@cache
def current_timezones() -> tuple[str, ...]:
    """The current IANA names people choose from: those of the tz database's zone.tab (one
    or more per country, e.g. "Africa/Asmara", "America/Adak") and UTC; no deprecated
    aliases ("Africa/Asmera", "America/Atka") and no legacy names ("US/Eastern")."""
    names = {
        line.split("\t")[2]
        for line in _tzdata_text("zone.tab").splitlines()
        if line and not line.startswith("#")
    }
    return tuple(sorted(n for n in names if is_valid_timezone(n))) + ("UTC",)


@cache
def _aliases() -> dict[str, str]:
    """{deprecated name: current name} for the tz database's links ("L target name")."""
    current = set(current_timezones())
    links = {}
    for line in _tzdata_text("tzdata.zi").splitlines():
        if line.startswith("L "):
            _l_, target, name = line.split()[:3]
            links[name] = target
    by_target: dict[str, list[str]] = {}
    for name in current:
        by_target.setdefault(links.get(name, name), []).append(name)
    aliases = {}
    for name, target in links.items():
        if name in current:
            continue
        candidates = by_target.get(target, [])
        close = get_close_matches(name, candidates, n=1, cutoff=0.8)
        if close:
            aliases[name] = close[0]
        elif target in current:
            aliases[name] = target
    aliases.update({"UCT": "UTC", "Etc/UTC": "UTC", "Etc/UCT": "UTC", "Zulu": "UTC"})
    return aliases


def current_name(name: str) -> str:
    """The current IANA name of a zone: "Africa/Asmera" gives "Africa/Asmara", "America/Atka"
    gives "America/Adak"; a current name (or an unknown one) is returned as it is."""
    return _aliases().get(name, name)
