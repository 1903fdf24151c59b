"""The waitlist by hand: withdrawing (and who gets the seat), promoting, moving people."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from trainingmgr.accounts.models import User
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import (
    Enrolment,
    EnrolmentStatus,
)
from trainingmgr.core.errors import DomainError
from trainingmgr.enrolments.seats import fill_waitlist, lock_cohort, renumber_waitlist, seats_of
from trainingmgr.enrolments.services import change_status, get_enrolment
from trainingmgr.extensions import db

S = EnrolmentStatus
WAITLIST_ACTION = "enrolment.waitlist"


@dataclass(frozen=True)
class Withdrawal:
    """What a withdrawal did: ``filled``, those given the seat from the waitlist (when the
    cohort fills itself); ``offer``, the next on the waitlist when a seat is still free for
    them (the coordinator promotes them, or not)."""

    filled: list[Enrolment]
    offer: Enrolment | None


def withdraw(enrolment: Enrolment, *, actor: User | None) -> Withdrawal:
    """Withdraw someone; the seat goes to the waitlist by itself when the cohort fills itself
    (``auto_fill_waitlist``), else the next person on the waitlist is offered it."""
    change_status(enrolment, S.WITHDRAWN, actor=actor, fill=False)
    filled = fill_waitlist(enrolment.cohort_id, actor=actor)
    return Withdrawal(filled, next_on_waitlist(enrolment.cohort_id))


def _first_waitlisted(cohort_id: int) -> Enrolment | None:
    return db.session.scalar(
        sa.select(Enrolment)
        .where(Enrolment.cohort_id == cohort_id, Enrolment.status == S.WAITLISTED)
        .order_by(Enrolment.waitlist_position)
        .options(joinedload(Enrolment.person))
        .limit(1)
    )


def next_on_waitlist(cohort_id: int) -> Enrolment | None:
    """The first person on the waitlist, if a seat is free for them."""
    if seats_of(cohort_id, lock=False).full():
        return None
    return _first_waitlisted(cohort_id)


def promote(cohort_id: int, *, actor: User | None, enrolment_id: int | None = None) -> Enrolment:
    """Give a free seat to the first on the waitlist (or to ``enrolment_id``).

    The rest of the waitlist moves up (1..n). Refused when the cohort is full.
    """
    lock_cohort(cohort_id)
    if enrolment_id is None:
        enrolment = _first_waitlisted(cohort_id)
        if enrolment is None:
            raise DomainError(_("Nobody is on the waitlist."))
    else:
        enrolment = get_enrolment(cohort_id, enrolment_id)
    return change_status(enrolment, S.ENROLLED, actor=actor, expect=S.WAITLISTED)


def move_on_waitlist(enrolment: Enrolment, step: int, *, actor: User | None) -> Enrolment:
    """Move a waitlisted person ``step`` places (negative: towards the front)."""
    seats = lock_cohort(enrolment.cohort_id)
    db.session.refresh(enrolment)
    if enrolment.status != S.WAITLISTED:
        raise DomainError(_("%(name)s is not on the waitlist.", name=enrolment.person.full_name))
    renumber_waitlist(enrolment.cohort_id)
    waiting: Sequence[Enrolment] = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.cohort_id == enrolment.cohort_id, Enrolment.status == S.WAITLISTED)
        .order_by(Enrolment.waitlist_position)
    ).all()
    old = waiting.index(enrolment)
    new = min(max(old + step, 0), len(waiting) - 1)
    if new == old:
        return enrolment
    order = list(waiting)
    order.insert(new, order.pop(old))
    for position, e in enumerate(order, start=1):
        e.waitlist_position = position
    audit.record(
        WAITLIST_ACTION,
        actor=actor,
        obj=enrolment,
        programme_id=seats.cohort.programme_id,
        changes={"waitlist_position": [old + 1, new + 1]},
        summary=f"{enrolment.person.full_name}: waitlist {old + 1} -> {new + 1}",
    )
    return enrolment
