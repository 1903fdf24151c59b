"""Lists of cohorts and the choices their forms offer (programmes, parents, modules, trainers)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from trainingmgr.accounts.models import Role, User, UserRole
from trainingmgr.cohorts.models import (
    Cohort,
    CohortStatus,
    Enrolment,
    Session,
    people_waiting,
    seats_taken,
    session_trainers,
)
from trainingmgr.core.pagination import Page, paginate
from trainingmgr.core.scope import in_programmes, visible_people
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import (
    Module,
    Programme,
    ProgrammeStatus,
)

PAGE_SIZE = 50

# --------------------------------------------------------------------------- lists


@dataclass(frozen=True)
class CohortFilter:
    programme_id: int | None = None
    # "" = every status but archived; "all" = every status; else a CohortStatus value.
    status: str = ""
    # "" = any time; "current", "upcoming" or "past" relative to today.
    period: str = ""
    date_from: date | None = None
    date_to: date | None = None
    # Only these programmes' cohorts (a coordinator's); None: every programme's.
    programme_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class CohortRow:
    cohort: Cohort
    enrolled: int
    waitlisted: int
    sessions: int


def enrolment_counts() -> sa.Subquery:
    """Per cohort: ``cohort_id``, ``enrolled`` (active enrolments) and ``waitlisted``."""
    return (
        sa.select(
            Enrolment.cohort_id,
            seats_taken().label("enrolled"),
            people_waiting().label("waitlisted"),
        )
        .group_by(Enrolment.cohort_id)
        .subquery()
    )


def _session_counts() -> sa.Subquery:
    return (
        sa.select(Session.cohort_id, sa.func.count().label("sessions"))
        .where(Session.scheduled)
        .group_by(Session.cohort_id)
        .subquery()
    )


def list_cohorts(
    filters: CohortFilter,
    page: int = 1,
    per_page: int = PAGE_SIZE,
    today: date | None = None,
) -> Page[CohortRow]:
    """One page of cohorts with their counts: two queries whatever the number of rows."""
    today = today or utcnow().date()
    where: list[Any] = []
    if filters.programme_id:
        where.append(Cohort.programme_id == filters.programme_id)
    where.append(in_programmes(Cohort.programme_id, filters.programme_ids))
    if filters.status == "":
        where.append(Cohort.status != CohortStatus.ARCHIVED)
    elif filters.status != "all":
        where.append(Cohort.status == CohortStatus(filters.status))
    if filters.period == "current":
        where += [Cohort.start_date <= today, Cohort.end_date >= today]
    elif filters.period == "upcoming":
        where.append(Cohort.start_date > today)
    elif filters.period == "past":
        where.append(Cohort.end_date < today)
    if filters.date_from:
        where.append(Cohort.end_date >= filters.date_from)
    if filters.date_to:
        where.append(Cohort.start_date <= filters.date_to)
    enrolments = enrolment_counts()
    sessions = _session_counts()
    result = paginate(
        sa.select(Cohort, enrolments.c.enrolled, enrolments.c.waitlisted, sessions.c.sessions)
        .outerjoin(enrolments, enrolments.c.cohort_id == Cohort.id)
        .outerjoin(sessions, sessions.c.cohort_id == Cohort.id)
        .options(joinedload(Cohort.programme))
        .where(*where)
        .order_by(Cohort.start_date.desc(), Cohort.name, Cohort.id),
        page,
        per_page,
        scalars=False,
    )
    rows = [CohortRow(c, e or 0, w or 0, s or 0) for c, e, w, s in result.items]
    return replace(result, items=rows)


def programme_choices(
    include_archived: bool = True, programme_ids: Collection[int] | None = None
) -> list[Programme]:
    """Programmes to choose from (only ``programme_ids`` unless None)."""
    query = sa.select(Programme).order_by(Programme.code)
    if not include_archived:
        query = query.where(Programme.status == ProgrammeStatus.ACTIVE)
    return list(db.session.scalars(query.where(in_programmes(Programme.id, programme_ids))))


def parent_choices(
    cohort: Cohort | None = None, programme_ids: Collection[int] | None = None
) -> list[tuple[int, str]]:
    """Cohorts that may be chosen as a parent ToT cohort (not the cohort itself; only of
    ``programme_ids`` unless None, but always the cohort's current parent)."""
    query = (
        sa.select(Cohort.id, Cohort.name, Programme.code, Cohort.start_date)
        .join(Programme, Programme.id == Cohort.programme_id)
        .order_by(Programme.code, Cohort.start_date.desc(), Cohort.name)
    )
    if cohort is not None and cohort.id is not None:
        query = query.where(Cohort.id != cohort.id)
    if programme_ids is not None:
        keep = cohort.parent_cohort_id if cohort is not None else None
        query = query.where(
            sa.or_(Cohort.programme_id.in_(sorted(programme_ids)), Cohort.id == keep)
        )
    return [
        (cid, f"{code} · {name} ({start:%Y-%m-%d})")
        for cid, name, code, start in db.session.execute(query)
    ]


def module_choices(programme_id: int, keep_id: int | None = None) -> list[Module]:
    """The programme's modules that are not retired (plus ``keep_id``, already in use)."""
    condition = Module.retired.is_(False)
    if keep_id is not None:
        condition = sa.or_(condition, Module.id == keep_id)
    return list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.programme_id == programme_id, condition)
            .order_by(Module.position, Module.code)
        )
    )


def trainer_choices(
    programme_ids: Collection[int] | None = None,
    keep: Collection[int] = (),
    programme_id: int | None = None,
) -> dict[str, list[tuple[int, str, str]]]:
    """People to pick trainers from, as (id, label, search text): those who teach in
    ``programme_id`` first, then those who are trainers elsewhere (trainers are shared by
    every programme), then everyone else in the scope of ``programme_ids`` (everyone:
    None). Merged records are left out; ``keep`` (the session's current trainers) are
    always in."""
    trainer_ids = set(
        db.session.scalars(
            sa.union(
                sa.select(session_trainers.c.person_id),
                sa.select(User.person_id)
                .join(UserRole, UserRole.user_id == User.id)
                .where(UserRole.role == Role.TRAINER, User.person_id.is_not(None)),
            )
        )
    )
    rows = db.session.execute(
        sa.select(
            Person.id,
            Person.first_name,
            Person.last_name,
            Person.email,
            Person.search_text,
            visible_people(programme_ids, scan=True),
        )
        .where(Person.merged_into_id.is_(None))
        .order_by(Person.last_name, Person.first_name, Person.id)
    ).all()
    own_ids = _programme_trainer_ids(programme_id) if programme_id is not None else set()
    own: list[tuple[int, str, str]] = []
    trainers: list[tuple[int, str, str]] = []
    others: list[tuple[int, str, str]] = []
    for pid, first, last, email, search, visible in rows:
        label = " ".join(p for p in (first, last) if p) + (f" ({email})" if email else "")
        if pid in own_ids:
            own.append((pid, label, search))
        elif pid in trainer_ids:
            trainers.append((pid, label, search))
        elif visible or pid in keep:
            others.append((pid, label, search))
    if programme_id is None:
        return {str(_("Trainers")): trainers, str(_("Other people")): others}
    return {
        str(_("Trainers of this programme")): own,
        str(_("Other trainers")): trainers,
        str(_("Other people")): others,
    }


def _programme_trainer_ids(programme_id: int) -> set[int]:
    """Who teaches (or taught) a session of one of the programme's cohorts."""
    return set(
        db.session.scalars(
            sa.select(session_trainers.c.person_id)
            .join(Session, Session.id == session_trainers.c.session_id)
            .join(Cohort, Cohort.id == Session.cohort_id)
            .where(Cohort.programme_id == programme_id)
            .distinct()
        )
    )
