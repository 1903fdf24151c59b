"""Demo sessions and attendance: the sessions of a cohort, the attendance marked in those
that are over, completion, and the loading of a cohort with all of them."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from trainingmgr.attendance.models import ATTENDED, AttendanceRecord, AttendanceStatus
from trainingmgr.cohorts.models import (
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    Session,
    session_trainers,
)
from trainingmgr.demo.accounts import COORDINATOR_EMAIL, TRAINER_EMAIL
from trainingmgr.demo.cohorts import _CohortDef
from trainingmgr.demo.people import SEED, _EnrolmentPlan
from trainingmgr.demo.programmes import _PROGRAMMES
from trainingmgr.extensions import db

if TYPE_CHECKING:
    from trainingmgr.demo.loader import _Loader


@dataclass(frozen=True)
class _SessionPlan:
    starts_at: datetime
    ends_at: datetime
    module: str
    trainers: tuple[str, ...]


def _module_hours() -> dict[str, Decimal]:
    return {m["code"]: Decimal(m["hours"]) for p in _PROGRAMMES for m in p["module"]}


def _plan_sessions(cdef: _CohortDef, today: date) -> list[_SessionPlan]:
    """Weekday sessions at local times in the cohort's zone, stored in UTC."""
    tz = ZoneInfo(cdef.timezone)
    hours = _module_hours()
    slot_hours = {
        Decimal((datetime.combine(today, b) - datetime.combine(today, a)).seconds) / 3600
        for a, b in cdef.slots
    }
    if len(slot_hours) != 1:
        raise ValueError(f"{cdef.key}: all slots of a day must have the same length")
    per_slot = slot_hours.pop()
    if any(hours[code] % per_slot for code in cdef.modules):
        raise ValueError(f"{cdef.key}: module hours must be whole numbers of sessions")
    modules = [code for code in cdef.modules for _ in range(int(hours[code] / per_slot))]
    days = cdef.days(today)
    if len(modules) != len(days) * len(cdef.slots):
        raise ValueError(f"{cdef.key}: the module hours do not fill the days")
    plans: list[_SessionPlan] = []
    for day in days:
        for start, end in cdef.slots:
            code = modules[len(plans)]
            plans.append(
                _SessionPlan(
                    datetime.combine(day, start, tz).astimezone(UTC),
                    datetime.combine(day, end, tz).astimezone(UTC),
                    code,
                    cdef.trainers.get(code, ()),
                )
            )
    return plans


_EXCUSES = ("Official duty", "Medical certificate", "Family reasons", "Flight delayed")


@dataclass(frozen=True)
class _Mark:
    session: int
    enrolment: int
    status: AttendanceStatus
    note: str
    minutes_after: int


def _plan_attendance(
    cdef: _CohortDef, sessions: list[_SessionPlan], enrolments: list[_EnrolmentPlan], now: datetime
) -> list[_Mark]:
    """Marks for sessions that ended before today (in the cohort's zone), except the
    ``unrecorded`` latest ones.

    Regular participants miss few sessions and never one of a required module; weak ones
    miss about half, so completion is unambiguous whatever the exact rule.
    """
    rng = random.Random(f"{SEED}:{cdef.key}")
    tz = ZoneInfo(cdef.timezone)
    local_midnight = datetime.combine(now.astimezone(tz).date(), time(0), tz)
    recorded = [i for i, s in enumerate(sessions) if s.ends_at <= local_midnight]
    recorded = recorded[: len(recorded) - cdef.unrecorded]
    optional = [i for i in recorded if sessions[i].module not in cdef.required_modules]
    marks: list[_Mark] = []
    for e_index, enrolment in enumerate(enrolments):
        if enrolment.status != EnrolmentStatus.ENROLLED or not recorded:
            continue
        if enrolment.weak:
            missed = set(rng.sample(recorded, math.ceil(len(recorded) * 0.45)))
        else:
            most = int(len(recorded) * (100 - cdef.min_attendance_pct) * 0.006)
            missed = set(rng.sample(optional, min(len(optional), round(most * rng.random() ** 2))))
        for s_index in recorded:
            note = ""
            if s_index in missed:
                status = (
                    AttendanceStatus.EXCUSED if rng.random() < 0.35 else AttendanceStatus.ABSENT
                )
                if status == AttendanceStatus.EXCUSED:
                    note = rng.choice(_EXCUSES)
            elif rng.random() < 0.06:
                status = AttendanceStatus.LATE
                note = f"Arrived {rng.choice((10, 20, 25, 40))} minutes late"
            else:
                status = AttendanceStatus.PRESENT
            marks.append(_Mark(s_index, e_index, status, note, rng.randint(5, 90)))
    return marks


def _final_statuses(
    enrolments: list[_EnrolmentPlan], marks: list[_Mark], sessions: int, min_pct: int
) -> dict[int, EnrolmentStatus]:
    """Completed or not for every seated enrolment of a finished cohort."""
    attended = Counter(m.enrolment for m in marks if m.status in ATTENDED)
    return {
        i: EnrolmentStatus.COMPLETED
        if attended[i] * 100 >= min_pct * sessions
        else EnrolmentStatus.NOT_COMPLETED
        for i, e in enumerate(enrolments)
        if e.status == EnrolmentStatus.ENROLLED
    }


def _min_hours(sessions: list[_SessionPlan], pct: int) -> Decimal:
    """The hours a participant must attend: ``pct`` % of the cohort's scheduled hours."""
    seconds = sum((s.ends_at - s.starts_at).total_seconds() for s in sessions)
    return (Decimal(int(seconds)) / 3600 * pct / 100).quantize(Decimal("0.1"))


def _new_cohort(
    loader: _Loader, cdef: _CohortDef, sessions: list[_SessionPlan], finished: bool
) -> Cohort:
    """The cohort of ``cdef``, dated by its sessions (in its own time zone)."""
    programme = loader.programmes[cdef.programme]
    return Cohort(
        **cdef.columns,
        programme_id=programme.id,
        start_date=sessions[0].starts_at.astimezone(ZoneInfo(cdef.timezone)).date(),
        end_date=sessions[-1].starts_at.astimezone(ZoneInfo(cdef.timezone)).date(),
        capacity=cdef.size,
        status=CohortStatus.CLOSED if finished else CohortStatus.OPEN,
        min_hours=_min_hours(sessions, cdef.min_attendance_pct),
        parent_cohort_id=loader.cohort_ids.get(cdef.parent) if cdef.parent else None,
        required_modules=[loader.modules[code] for code in cdef.required_modules],
    )


def _session_rows(
    loader: _Loader, cdef: _CohortDef, cohort: Cohort, sessions: list[_SessionPlan]
) -> list[Session]:
    return [
        Session(
            cohort=cohort,
            module=loader.modules[s.module],
            title=cdef.session_titles.get(s.module, ""),
            starts_at=s.starts_at,
            ends_at=s.ends_at,
            mode=cdef.columns["delivery_mode"],
            online_url=cdef.columns.get("online_url"),
        )
        for s in sessions
    ]


def _insert_trainers(
    loader: _Loader, sessions: list[_SessionPlan], session_rows: list[Session]
) -> None:
    trainer_rows = [
        {"session_id": row.id, "person_id": loader.person_ids[email]}
        for row, plan in zip(session_rows, sessions, strict=True)
        for email in plan.trainers
    ]
    if trainer_rows:
        db.session.execute(session_trainers.insert(), trainer_rows)


def _insert_attendance(
    loader: _Loader,
    cdef: _CohortDef,
    cohort: Cohort,
    sessions: list[_SessionPlan],
    session_rows: list[Session],
    enrolment_rows: list[Enrolment],
    marks: list[_Mark],
) -> int:
    """The attendance records of ``marks``, entered by the demo trainer in his sessions and
    by the coordinator in the others. Returns how many were inserted."""
    trainer_user = loader.users[TRAINER_EMAIL]
    coordinator = loader.users[COORDINATOR_EMAIL]
    attendance_rows = [
        {
            "session_id": session_rows[m.session].id,
            "enrolment_id": enrolment_rows[m.enrolment].id,
            "cohort_id": cohort.id,
            "status": m.status,
            "note": m.note,
            "source": cdef.source,
            "recorded_by_id": trainer_user.id
            if TRAINER_EMAIL in sessions[m.session].trainers
            else coordinator.id,
            "recorded_at": sessions[m.session].ends_at + timedelta(minutes=m.minutes_after),
            "version": 1,
        }
        for m in marks
    ]
    if attendance_rows:
        db.session.execute(sa.insert(AttendanceRecord), attendance_rows)
    return len(attendance_rows)


def load_cohort(loader: _Loader, cdef: _CohortDef) -> None:
    """The cohort of ``cdef`` with its sessions, enrolments and attendance, unless it exists
    already (then it is left as it is)."""
    programme = loader.programmes[cdef.programme]
    cohort_id = db.session.scalar(
        sa.select(Cohort.id).where(
            Cohort.programme_id == programme.id, Cohort.name == cdef.columns["name"]
        )
    )
    if cohort_id is not None:
        loader.cohort_ids[cdef.key] = cohort_id
        loader.tally.present["cohorts"] += 1
        return
    sessions = _plan_sessions(cdef, loader.today)
    plans = loader.plan.enrolments[cdef.key]
    marks = _plan_attendance(cdef, sessions, plans, loader.now)
    finished = sessions[-1].ends_at < loader.now
    statuses = (
        _final_statuses(plans, marks, len(sessions), cdef.min_attendance_pct) if finished else {}
    )
    cohort = _new_cohort(loader, cdef, sessions, finished)
    session_rows = _session_rows(loader, cdef, cohort, sessions)
    enrolment_rows = [
        Enrolment(
            cohort=cohort,
            person_id=loader.person_ids[e.email],
            status=statuses.get(i, e.status),
            waitlist_position=e.waitlist_position,
        )
        for i, e in enumerate(plans)
    ]
    db.session.add(cohort)
    db.session.add_all(session_rows + enrolment_rows)
    db.session.flush()
    loader.cohort_ids[cdef.key] = cohort.id
    loader.new_cohorts.add(cdef.key)

    _insert_trainers(loader, sessions, session_rows)
    attendance = _insert_attendance(
        loader, cdef, cohort, sessions, session_rows, enrolment_rows, marks
    )
    loader.tally.created["cohorts"] += 1
    loader.tally.created["sessions"] += len(session_rows)
    loader.tally.created["enrolments"] += len(enrolment_rows)
    loader.tally.created["attendance"] += attendance
