"""The nine demo cohorts: their schedules (relative to the day of loading), trainers and
participants' profile, read from ``trainingmgr/data/cohorts.toml``."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

import sqlalchemy as sa

from trainingmgr.attendance.models import AttendanceSource
from trainingmgr.cohorts.models import Cohort
from trainingmgr.config import DATA_DIR
from trainingmgr.demo.fields import column_values

# A day's two sessions, by the names cohorts.toml gives them.
SLOTS = {
    "full day": ((time(9, 0), time(12, 30)), (time(13, 30), time(17, 0))),
    "online day": ((time(10, 0), time(12, 0)), (time(13, 0), time(15, 0))),
    "rollout day": ((time(9, 30), time(13, 0)), (time(14, 0), time(17, 30))),
}


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _winter_break(day: date) -> bool:
    return (day.month, day.day) >= (12, 24) or (day.month, day.day) <= (1, 1)


def _weekdays(start: date, count: int) -> list[date]:
    """``count`` working days from ``start``: no weekends, no training from 24 Dec to 1 Jan."""
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5 and not _winter_break(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _week(weeks: int, count: int, after: int = 0) -> Callable[[date], list[date]]:
    """``count`` weekdays from the Monday ``weeks`` weeks from the week of loading (``after``
    days later)."""
    return lambda today: _weekdays(_monday(today) + timedelta(weeks=weeks, days=after), count)


def _in_progress_rollout(today: date) -> list[date]:
    """Two days a week apart: the first 3 to 5 days ago, the second 2 to 4 days ahead."""
    first = today - timedelta(days=3)
    while first.weekday() >= 5:
        first -= timedelta(days=1)
    return [first, first + timedelta(days=7)]


@dataclass(frozen=True)
class _CohortDef:
    key: str
    programme: str
    columns: dict[str, Any]  # the cohort's own columns (name, timezone, venue...)
    days: Callable[[date], list[date]]
    slots: tuple[tuple[time, time], ...]
    modules: tuple[str, ...]  # in teaching order; each fills (hours / slot length) sessions
    trainers: dict[str, tuple[str, ...]]  # module code -> trainers' e-mails
    # Participants: the curated ones (people.csv "cohorts" column), ``alumni`` people taken
    # from earlier cohorts, and generated people from ``countries`` for the remaining seats.
    size: int  # enrolled (or completed) people
    countries: tuple[str, ...]
    level: str
    required_modules: tuple[str, ...] = ()
    parent: str | None = None
    alumni_from: tuple[str, ...] = ()
    alumni: int = 0
    applied: int = 0
    withdrawn: int = 0
    waitlisted: int = 0
    weak: int = 0  # participants who miss about half of the sessions
    # The latest past sessions whose attendance the trainers have not entered yet.
    unrecorded: int = 0
    session_titles: dict[str, str] = field(default_factory=dict)
    source: AttendanceSource = AttendanceSource.ROSTER

    @property
    def timezone(self) -> str:
        return str(self.columns["timezone"])

    @property
    def min_attendance_pct(self) -> int:
        return int(self.columns["min_attendance_pct"])


def _days(spec: str | dict[str, int]) -> Callable[[date], list[date]]:
    if spec == "in progress":
        return _in_progress_rollout
    if isinstance(spec, dict):
        return _week(**spec)
    raise ValueError(f"cohorts.toml: unknown days {spec!r}")


def _definition(table: dict[str, Any], trainers: dict[str, str]) -> _CohortDef:
    """One ``[[cohort]]`` of cohorts.toml as a _CohortDef."""
    columns = sa.inspect(Cohort).columns
    values = {
        name: tuple(value) if isinstance(value, list) else value
        for name, value in table.items()
        if name not in ("days", "slots", "trainers", "source") and name not in columns
    }
    return _CohortDef(
        **values,
        columns=column_values(Cohort, {k: v for k, v in table.items() if k in columns}),
        source=AttendanceSource(table.get("source", AttendanceSource.ROSTER)),
        days=_days(table["days"]),
        slots=SLOTS[table["slots"]],
        trainers={
            code: tuple(trainers[key] for key in keys)
            for code, keys in table.get("trainers", {}).items()
        },
    )


def _read() -> tuple[_CohortDef, ...]:
    with (DATA_DIR / "cohorts.toml").open("rb") as handle:
        data = tomllib.load(handle)
    return tuple(_definition(table, data["trainers"]) for table in data["cohort"])


# In creation order: a parent cohort and alumni sources come before the cohorts using them.
_COHORTS = _read()
