"""Session times and schedule checks: what a session or series is, local times to UTC,
and the warnings (clashes, trainers double-booked, outside the cohort's dates) to confirm.

Session times are entered in the cohort's local time and stored in UTC. Each date of a
series is converted on its own, so a series that crosses a daylight-saving change keeps the
same local time. A local time that does not exist (the hour skipped when clocks move
forward) is refused with a message; an ambiguous one (the hour repeated when clocks move
back) is read as its first occurrence (``fold=0``, still summer time)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

from trainingmgr.cohorts.models import (
    Cohort,
    DeliveryMode,
    Session,
    session_trainers,
)
from trainingmgr.core import timefmt
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import (
    Module,
    Programme,
)

MAX_SERIES_SESSIONS = 200


@dataclass
class SessionDetails:
    """What a session is about, shared by a single session and a series."""

    module_id: int | None = None
    title: str = ""
    mode: DeliveryMode = DeliveryMode.IN_PERSON
    location: str = ""
    online_url: str | None = None
    trainer_ids: list[int] = field(default_factory=list)


@dataclass
class SessionInput(SessionDetails):
    """One session, its date and times in the cohort's local time."""

    day: date | None = None
    start_time: time | None = None
    end_time: time | None = None


@dataclass
class SeriesInput(SessionDetails):
    """Sessions on chosen weekdays between two dates, every ``interval_weeks`` weeks."""

    start_date: date | None = None
    end_date: date | None = None
    weekdays: list[int] = field(default_factory=list)  # 0 = Monday ... 6 = Sunday
    interval_weeks: int = 1
    start_time: time | None = None
    end_time: time | None = None


@dataclass(frozen=True)
class ProposedSession:
    """A session about to be saved, in UTC, as ``schedule_warnings`` checks it."""

    starts_at: datetime
    ends_at: datetime
    trainer_ids: tuple[int, ...] = ()


class NeedsConfirmation(DomainError):
    """The schedule has warnings the user has not confirmed; nothing was saved."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(" ".join(warnings))
        self.warnings = warnings
        self.digest = warnings_digest(warnings)


def warnings_digest(warnings: list[str]) -> str:
    """A short fingerprint of a list of warnings: confirming it confirms exactly these."""
    return hashlib.sha256("\n".join(warnings).encode()).hexdigest()[:16]


def local_to_utc(day: date, at: time, zone: str, field_name: str = "start_time") -> datetime:
    """``day`` at ``at`` in ``zone``, as UTC.

    A time skipped by a daylight-saving change is refused; a repeated one is read as its
    first occurrence (``fold=0``).
    """
    tz = ZoneInfo(zone)
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=tz)
    utc = local.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise DomainError(
            _(
                "%(time)s on %(date)s does not exist in %(zone)s: the clocks move forward "
                "then. Choose another time.",
                time=at.strftime("%H:%M"),
                date=timefmt.fmt_date(day),
                zone=zone,
            ),
            field_name,
        )
    return utc


def session_times(
    cohort: Cohort, day: date, start: time | None, end: time | None
) -> tuple[datetime, datetime]:
    if start is None:
        raise DomainError(_("Enter the start time."), "start_time")
    if end is None:
        raise DomainError(_("Enter the end time."), "end_time")
    if end <= start:
        raise DomainError(
            _("The end time must be after the start time (%(t)s).", t=start.strftime("%H:%M")),
            "end_time",
        )
    return (
        local_to_utc(day, start, cohort.timezone, "start_time"),
        local_to_utc(day, end, cohort.timezone, "end_time"),
    )


@dataclass(frozen=True)
class Details:
    module: Module | None
    title: str
    mode: DeliveryMode
    location: str
    online_url: str | None
    trainers: list[Person]

    @property
    def trainer_ids(self) -> tuple[int, ...]:
        return tuple(p.id for p in self.trainers)


def validate_details(
    cohort: Cohort, data: SessionDetails, keep_module_id: int | None = None
) -> Details:
    module = None
    if data.module_id is not None:
        module = db.session.get(Module, data.module_id)
        usable = module is not None and module.programme_id == cohort.programme_id
        if usable and module.retired and module.id != keep_module_id:
            usable = False
        if not usable:
            raise DomainError(
                _("Choose a module of this programme's curriculum that is not retired."),
                "module_id",
            )
    title = clean_text(data.title)
    if len(title) > 250:
        raise DomainError(_("The title is too long: use at most 250 characters."), "title")
    if module is None and not title:
        raise DomainError(_("Choose a module or enter a title."), "title")
    location = clean_text(data.location)
    if len(location) > 250:
        raise DomainError(_("The location is too long: use at most 250 characters."), "location")
    ids = sorted(set(data.trainer_ids or []))
    trainers: list[Person] = []
    if ids:
        trainers = list(
            db.session.scalars(
                sa.select(Person)
                .where(Person.id.in_(ids), Person.merged_into_id.is_(None))
                .order_by(Person.last_name, Person.first_name)
            )
        )
        if len(trainers) != len(ids):
            raise DomainError(_("Choose trainers from the list of people."), "trainer_ids")
    return Details(
        module=module,
        title=title,
        mode=DeliveryMode(data.mode),
        location=location,
        online_url=check_url(data.online_url, "online_url"),
        trainers=trainers,
    )


def series_dates(
    start: date, end: date, weekdays: list[int] | set[int], interval_weeks: int = 1
) -> list[date]:
    """Days from ``start`` to ``end`` on ``weekdays`` (0 = Monday), every ``interval_weeks``.

    Weeks are counted from the week (Monday to Sunday) that holds ``start``.
    """
    wanted = set(weekdays)
    anchor = start - timedelta(days=start.weekday())
    days = []
    current = start
    while current <= end:
        if current.weekday() in wanted and ((current - anchor).days // 7) % interval_weeks == 0:
            days.append(current)
        current += timedelta(days=1)
    return days


def series_days(data: SeriesInput) -> list[date]:
    if data.start_date is None:
        raise DomainError(_("Enter the first date of the series."), "start_date")
    if data.end_date is None:
        raise DomainError(_("Enter the last date of the series."), "end_date")
    if data.end_date < data.start_date:
        raise DomainError(
            _("The last date is before the first date: swap them or correct one."), "end_date"
        )
    if not data.weekdays or any(d not in range(7) for d in data.weekdays):
        raise DomainError(_("Tick at least one weekday."), "weekdays")
    if data.interval_weeks is None or not 1 <= data.interval_weeks <= 52:
        raise DomainError(_("Repeat every 1 to 52 weeks (1 means every week)."), "interval_weeks")
    if (data.end_date - data.start_date).days > 7 * 106:
        raise DomainError(_("A series can span at most two years."), "end_date")
    days = series_dates(data.start_date, data.end_date, data.weekdays, data.interval_weeks)
    if not days:
        raise DomainError(_("No day between these dates falls on the chosen weekdays."), "weekdays")
    if len(days) > MAX_SERIES_SESSIONS:
        raise DomainError(
            _(
                "This would create %(n)d sessions; a series is limited to %(max)d.",
                n=len(days),
                max=MAX_SERIES_SESSIONS,
            ),
            "end_date",
        )
    return days


def _when(value: datetime, zone: str) -> str:
    return timefmt.fmt_datetime(value, zone)


def schedule_warnings(
    cohort: Cohort,
    proposed: list[ProposedSession],
    exclude_session_id: int | None = None,
) -> list[str]:
    """What a coordinator should know before saving ``proposed`` sessions.

    A session outside the cohort's dates, two sessions of this cohort that overlap, and a
    trainer booked in overlapping sessions of any cohort. Runs at most two queries however
    many sessions are proposed. Cancelled sessions are ignored.
    """
    if not proposed:
        return []
    zone = cohort.timezone
    warnings = _outside_dates(cohort, proposed) + _overlapping_each_other(proposed, zone)
    window_start = min(p.starts_at for p in proposed)
    window_end = max(p.ends_at for p in proposed)
    in_window = [
        Session.starts_at < window_end,
        Session.ends_at > window_start,
        Session.scheduled,
    ]
    if exclude_session_id is not None:
        in_window.append(Session.id != exclude_session_id)
    if cohort.id is not None:
        warnings += _cohort_overlaps(cohort, proposed, in_window)
    warnings += _trainer_overlaps(proposed, in_window, zone)
    if warnings:
        warnings.append(_("Times are in %(zone)s.", zone=zone))
    return list(dict.fromkeys(warnings))


def _span(start: datetime, end: datetime, zone: str) -> str:
    return f"{_when(start, zone)}–{timefmt.fmt_time(end, zone)}"


# A session's title as shown in the warnings: its own, else its module's.
_TITLE = sa.func.coalesce(sa.func.nullif(Session.title, ""), Module.title, "")


def _outside_dates(cohort: Cohort, proposed: list[ProposedSession]) -> list[str]:
    zone = cohort.timezone
    warnings = []
    for p in proposed:
        first = p.starts_at.astimezone(ZoneInfo(zone)).date()
        last = p.ends_at.astimezone(ZoneInfo(zone)).date()
        if first < cohort.start_date or last > cohort.end_date:
            warnings.append(
                _(
                    "%(when)s is outside the cohort's dates (%(start)s – %(end)s).",
                    when=_span(p.starts_at, p.ends_at, zone),
                    start=timefmt.fmt_date(cohort.start_date),
                    end=timefmt.fmt_date(cohort.end_date),
                )
            )
    return warnings


def _overlapping_each_other(proposed: list[ProposedSession], zone: str) -> list[str]:
    warnings = []
    for i, a in enumerate(proposed):
        for b in proposed[i + 1 :]:
            if a.starts_at < b.ends_at and b.starts_at < a.ends_at:
                warnings.append(
                    _(
                        "The new sessions %(a)s and %(b)s overlap each other.",
                        a=_span(a.starts_at, a.ends_at, zone),
                        b=_span(b.starts_at, b.ends_at, zone),
                    )
                )
    return warnings


def _cohort_overlaps(
    cohort: Cohort, proposed: list[ProposedSession], in_window: list[Any]
) -> list[str]:
    """The proposed sessions overlapping the cohort's other sessions: one query."""
    zone = cohort.timezone
    existing = db.session.execute(
        sa.select(Session.starts_at, Session.ends_at, _TITLE)
        .outerjoin(Module, Module.id == Session.module_id)
        .where(Session.cohort_id == cohort.id, *in_window)
        .order_by(Session.starts_at)
    ).all()
    warnings = []
    for p in proposed:
        for starts, ends, name in existing:
            if p.starts_at < ends and starts < p.ends_at:
                warnings.append(
                    _(
                        "%(when)s overlaps “%(title)s” (%(other)s) in this cohort.",
                        when=_span(p.starts_at, p.ends_at, zone),
                        title=name,
                        other=_span(starts, ends, zone),
                    )
                )
    return warnings


def _trainer_overlaps(
    proposed: list[ProposedSession], in_window: list[Any], zone: str
) -> list[str]:
    """The proposed trainers booked in overlapping sessions of any cohort: one query."""
    trainer_ids = sorted({pid for p in proposed for pid in p.trainer_ids})
    if not trainer_ids:
        return []
    bookings = db.session.execute(
        sa.select(
            session_trainers.c.person_id,
            Person.first_name,
            Person.last_name,
            Session.starts_at,
            Session.ends_at,
            _TITLE,
            Cohort.name,
            Programme.code,
        )
        .join(Session, Session.id == session_trainers.c.session_id)
        .join(Person, Person.id == session_trainers.c.person_id)
        .join(Cohort, Cohort.id == Session.cohort_id)
        .join(Programme, Programme.id == Cohort.programme_id)
        .outerjoin(Module, Module.id == Session.module_id)
        .where(session_trainers.c.person_id.in_(trainer_ids), *in_window)
        .order_by(Session.starts_at)
    ).all()
    warnings = []
    for p in proposed:
        for pid, first, last, starts, ends, name, cohort_name, code in bookings:
            if pid in p.trainer_ids and p.starts_at < ends and starts < p.ends_at:
                warnings.append(
                    _(
                        "%(trainer)s is already booked %(other)s for “%(title)s” "
                        "(%(code)s · %(cohort)s), which overlaps %(when)s.",
                        trainer=" ".join(x for x in (first, last) if x),
                        other=_span(starts, ends, zone),
                        title=name,
                        code=code,
                        cohort=cohort_name,
                        when=_span(p.starts_at, p.ends_at, zone),
                    )
                )
    return warnings


def confirm_schedule(
    cohort: Cohort,
    proposed: list[ProposedSession],
    acknowledged: str | None,
    exclude_session_id: int | None = None,
) -> None:
    """Raise ``NeedsConfirmation`` unless there is nothing to warn about or the user has
    confirmed exactly these warnings (``acknowledged`` is their digest)."""
    warnings = schedule_warnings(cohort, proposed, exclude_session_id)
    if warnings and acknowledged != warnings_digest(warnings):
        raise NeedsConfirmation(warnings)


def clean_text(value: str | None) -> str:
    return (value or "").strip()


def check_url(value: str | None, field_name: str) -> str | None:
    url = clean_text(value)
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DomainError(
            _("Enter a full web address starting with https:// (for example a meeting link)."),
            field_name,
        )
    return url


# The columns of a session that its audit events show.
_SESSION_COLUMNS = ("module_id", "title", "starts_at", "ends_at", "mode", "location", "online_url")


def session_values(session: Session) -> dict[str, Any]:
    values = {name: getattr(session, name) for name in _SESSION_COLUMNS}
    return {**values, "trainer_ids": sorted(p.id for p in session.trainers)}
