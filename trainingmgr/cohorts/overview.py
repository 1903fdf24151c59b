"""The cohort page's overview: its schedule by day and trainers' loads, in a fixed number of
queries (the enrolment counts are the roster's, ``enrolments.services.Roster``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from trainingmgr.cohorts.models import Cohort, Session
from trainingmgr.extensions import db
from trainingmgr.people.models import Person

# --------------------------------------------------------------------------- cohort page


@dataclass(frozen=True)
class ScheduleDay:
    day: date
    sessions: list[Session]


@dataclass(frozen=True)
class TrainerLoad:
    person: Person
    sessions: int


@dataclass(frozen=True)
class CohortOverview:
    cohort: Cohort
    days: list[ScheduleDay]
    trainers: list[TrainerLoad]
    scheduled_sessions: int
    scheduled_hours: Decimal


def cohort_sessions(cohort_id: int) -> list[Session]:
    """A cohort's sessions with modules and trainers, in time order (two queries)."""
    return list(
        db.session.scalars(
            sa.select(Session)
            .where(Session.cohort_id == cohort_id)
            .options(joinedload(Session.module), selectinload(Session.trainers))
            .order_by(Session.starts_at, Session.id)
        ).unique()
    )


def overview(cohort: Cohort) -> CohortOverview:
    """Everything the cohort page shows besides the roster (and its counts), in a fixed number
    of queries."""
    sessions = cohort_sessions(cohort.id)
    tz = ZoneInfo(cohort.timezone)
    by_day: dict[date, list[Session]] = defaultdict(list)
    loads: Counter[int] = Counter()
    people: dict[int, Person] = {}
    hours = Decimal(0)
    scheduled = 0
    for s in sessions:
        by_day[s.starts_at.astimezone(tz).date()].append(s)
        if not s.scheduled:
            continue
        scheduled += 1
        hours += s.hours
        for person in s.trainers:
            loads[person.id] += 1
            people[person.id] = person
    trainers = sorted(
        (TrainerLoad(people[pid], n) for pid, n in loads.items()),
        key=lambda t: (t.person.last_name.casefold(), t.person.first_name.casefold()),
    )
    return CohortOverview(
        cohort=cohort,
        days=[ScheduleDay(d, items) for d, items in sorted(by_day.items())],
        trainers=trainers,
        scheduled_sessions=scheduled,
        scheduled_hours=hours,
    )


# --------------------------------------------------------------------------- sessions
