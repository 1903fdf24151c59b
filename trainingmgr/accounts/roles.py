"""Roles that follow from what a person does, not from a stored flag.

An account linked to a person is a **participant** while that person has an enrolment a
participant should see (enrolled, waitlisted, completed, not completed, or withdrawn: their
history and certificates stay theirs) and a **trainer** while they are assigned to teach a
session. These roles are added to the ones stored on the account (``user_roles``:
administrators, coordinators, and trainers or participants invited before any assignment),
so they cannot drift when enrolments and schedules change.

The answer is cached per database session until the next flush or the end of the
transaction (one query per person per request; ``preload`` answers for a list in two).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction

from trainingmgr.accounts.models import Role
from trainingmgr.extensions import db

_CACHE = "trainingmgr.accounts.roles"


def _participant_statuses() -> tuple[Any, ...]:
    from trainingmgr.cohorts.models import EnrolmentStatus

    # An application is not yet a place on a cohort.
    return tuple(s for s in EnrolmentStatus if s != EnrolmentStatus.APPLIED)


def _cache() -> dict[int, frozenset[Role]]:
    return db.session.info.setdefault(_CACHE, {})


@sa.event.listens_for(OrmSession, "after_flush")
def _forget_after_flush(session: OrmSession, _context: Any) -> None:
    session.info.pop(_CACHE, None)


@sa.event.listens_for(OrmSession, "after_transaction_end")
def _forget_at_transaction_end(session: OrmSession, _transaction: SessionTransaction) -> None:
    session.info.pop(_CACHE, None)


def participant_condition(person_id: Any) -> sa.ColumnElement[bool]:
    """SQL: the person (id or column) has an enrolment that makes them a participant."""
    from trainingmgr.cohorts.models import Enrolment

    return (
        sa.exists()
        .where(Enrolment.person_id == person_id, Enrolment.status.in_(_participant_statuses()))
        .correlate_except(Enrolment)
    )


def trainer_condition(person_id: Any) -> sa.ColumnElement[bool]:
    """SQL: the person (id or column) is assigned to teach at least one session."""
    from trainingmgr.cohorts.models import session_trainers

    return (
        sa.exists()
        .where(session_trainers.c.person_id == person_id)
        .correlate_except(session_trainers)
    )


def preload(person_ids: Iterable[int | None]) -> None:
    """Work out the roles of many people at once (lists of accounts): two queries."""
    from trainingmgr.cohorts.models import Enrolment, session_trainers

    ids = sorted({pid for pid in person_ids if pid is not None} - set(_cache()))
    if not ids:
        return
    participants = set(
        db.session.scalars(
            sa.select(Enrolment.person_id)
            .where(Enrolment.person_id.in_(ids), Enrolment.status.in_(_participant_statuses()))
            .distinct()
        )
    )
    trainers = set(
        db.session.scalars(
            sa.select(session_trainers.c.person_id)
            .where(session_trainers.c.person_id.in_(ids))
            .distinct()
        )
    )
    cache = _cache()
    for pid in ids:
        cache[pid] = _roles(pid in participants, pid in trainers)


def _roles(participant: bool, trainer: bool) -> frozenset[Role]:
    return frozenset(
        role for role, held in ((Role.PARTICIPANT, participant), (Role.TRAINER, trainer)) if held
    )


def remember(person_id: int | None, participant: bool, trainer: bool) -> None:
    """Cache what a query that also asked ``participant_condition`` and ``trainer_condition``
    found (the sign-in's user: ``accounts.sessions.resolve``)."""
    if person_id is not None:
        _cache()[person_id] = _roles(participant, trainer)


def person_roles(person_id: int | None) -> frozenset[Role]:
    """The roles that follow from the person's enrolments and teaching (one query, cached)."""
    if person_id is None:
        return frozenset()
    cache = _cache()
    if person_id not in cache:
        participant, trainer = db.session.execute(
            sa.select(participant_condition(person_id), trainer_condition(person_id))
        ).one()
        cache[person_id] = _roles(bool(participant), bool(trainer))
    return cache[person_id]
