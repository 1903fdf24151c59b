"""Attendance rates and hours: the one computation.

Definitions (also on the matrix page and in docs/attendance.md):

- a session is *held* once any attendance is recorded for it; cancelled sessions never count;
- attendance rate = (present + late) / (sessions held - sessions excused);
- hours = the sum of the hours of the sessions attended present or late.

``attendance_summary`` (or ``summarise``, the rule without SQL) is the only place that computes
these; the matrix, the participant's page, reports and certificates use it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from trainingmgr.attendance.models import (
    AttendanceRecord,
    AttendanceStatus,
)
from trainingmgr.cohorts.models import (
    Enrolment,
    Session,
)
from trainingmgr.extensions import db

_ZERO_HOURS = Decimal("0.00")


@dataclass(frozen=True)
class Summary:
    """One participant's attendance over the sessions counted (see the module docstring)."""

    held: int = 0  # sessions held (not cancelled, attendance recorded)
    present: int = 0
    late: int = 0
    excused: int = 0
    absent: int = 0  # recorded absent
    hours: Decimal = _ZERO_HOURS

    @property
    def attended(self) -> int:
        return self.present + self.late

    @property
    def counted(self) -> int:
        """The denominator: sessions held, less those the participant was excused from."""
        return self.held - self.excused

    @property
    def not_recorded(self) -> int:
        return self.held - self.attended - self.excused - self.absent

    @property
    def rate(self) -> Decimal | None:
        """Attendance rate in [0, 1]; None while no session counts."""
        if self.counted <= 0:
            return None
        return Decimal(self.attended) / Decimal(self.counted)

    @property
    def rate_pct(self) -> int | None:
        """The rate as a whole percentage, rounded down (so 79.9% never shows as 80%)."""
        if self.counted <= 0:
            return None
        return self.attended * 100 // self.counted

    def below(self, min_pct: int | None) -> bool:
        """Whether the rate is below ``min_pct`` percent (False while nothing counts)."""
        if min_pct is None or self.counted <= 0:
            return False
        return self.attended * 100 < min_pct * self.counted


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions of a cohort count: one module, and/or a period (UTC bounds)."""

    module_id: int | None = None
    starts_from: datetime | None = None  # inclusive
    starts_before: datetime | None = None  # exclusive

    def apply(self, stmt: Any) -> Any:
        if self.module_id is not None:
            stmt = stmt.where(Session.module_id == self.module_id)
        if self.starts_from is not None:
            stmt = stmt.where(Session.starts_at >= self.starts_from)
        if self.starts_before is not None:
            stmt = stmt.where(Session.starts_at < self.starts_before)
        return stmt

    @classmethod
    def from_local(
        cls, tz: str, module_id: int | None, first: date | None, last: date | None
    ) -> SessionFilter:
        """A filter from dates in the cohort's zone (``last`` included)."""
        zone = ZoneInfo(tz)

        def start_of(day: date) -> datetime:
            return datetime.combine(day, time.min, tzinfo=zone)

        return cls(
            module_id=module_id,
            starts_from=start_of(first) if first else None,
            starts_before=start_of(last + timedelta(days=1)) if last else None,
        )


def session_hours(starts_at: datetime, ends_at: datetime) -> Decimal:
    seconds = int((ends_at - starts_at).total_seconds())
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))


def held_sessions(cohort_id: int, sessions: SessionFilter | None = None) -> dict[int, Decimal]:
    """{session id: hours} of the cohort's sessions held (scheduled, attendance recorded)."""
    held_flag = (
        sa.select(AttendanceRecord.id).where(AttendanceRecord.session_id == Session.id).exists()
    )
    stmt = sa.select(Session.id, Session.starts_at, Session.ends_at).where(
        Session.cohort_id == cohort_id,
        Session.scheduled,
        held_flag,
    )
    return {
        sid: session_hours(start, end)
        for sid, start, end in db.session.execute((sessions or SessionFilter()).apply(stmt))
    }


def attendance_summary(
    cohort_id: int,
    enrolment_ids: Iterable[int] | None = None,
    *,
    sessions: SessionFilter | None = None,
) -> dict[int, Summary]:
    """Attendance rate and hours of each enrolment of a cohort (the one computation).

    ``enrolment_ids`` defaults to the cohort's active enrolments; ``sessions`` limits the
    sessions counted (a module, a period). Three queries at most, whatever the sizes.
    """
    held = held_sessions(cohort_id, sessions)
    if enrolment_ids is None:
        ids = list(
            db.session.scalars(
                sa.select(Enrolment.id).where(Enrolment.cohort_id == cohort_id, Enrolment.active)
            )
        )
    else:
        ids = list(enrolment_ids)
    if not ids:
        return {}
    records: list[Any] = []
    if held:
        records = list(
            db.session.execute(
                sa.select(
                    AttendanceRecord.enrolment_id,
                    AttendanceRecord.session_id,
                    AttendanceRecord.status,
                ).where(
                    AttendanceRecord.cohort_id == cohort_id,
                    AttendanceRecord.enrolment_id.in_(ids),
                    AttendanceRecord.session_id.in_(list(held)),
                )
            )
        )
    return summarise(held, ids, records)


# A record's status -> its counter (present, late, excused, absent). The members are strings:
# the stored strings find them too.
_SLOTS = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)
SLOT: dict[str, int] = {st: i for i, st in enumerate(_SLOTS)}
ATTENDED_SLOTS = 2  # present and late come first: a slot below this one counts its hours


def from_slots(held: int, slots: list[int], hours: Decimal) -> Summary:
    """A summary from the records of one enrolment counted by ``SLOT`` (and the hours of
    those attended), over ``held`` sessions held."""
    present, late, excused, absent = slots
    return Summary(held, present, late, excused, absent, hours)


def summarise(
    held: dict[int, Decimal],
    enrolment_ids: Iterable[int],
    records: Iterable[tuple[int, int, AttendanceStatus | str]],
) -> dict[int, Summary]:
    """The rule itself, without SQL: ``held`` maps the sessions held (not cancelled, attendance
    taken) to their hours; ``records`` are (enrolment id, session id, status), the status as a
    member or its stored string. Records of sessions not in ``held`` are ignored. Used by
    ``attendance_summary`` and pages that load several cohorts at once (the participant's
    home); the matrix counts with ``SLOT`` and ``from_slots`` as it reads the records."""
    ids = list(enrolment_ids)
    counts: dict[int, list[int]] = {eid: [0, 0, 0, 0] for eid in ids}
    hours: dict[int, Decimal] = dict.fromkeys(ids, _ZERO_HOURS)
    for eid, sid, status in records:
        session_hours_ = held.get(sid)
        row = counts.get(eid)
        if session_hours_ is None or row is None:
            continue
        slot = SLOT[status]
        row[slot] += 1
        if slot < ATTENDED_SLOTS:
            hours[eid] += session_hours_
    n_held = len(held)
    return {eid: from_slots(n_held, counts[eid], hours[eid]) for eid in ids}
