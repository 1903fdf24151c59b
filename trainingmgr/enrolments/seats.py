"""Seats of a cohort: locking its row, counting seats and the waitlist, and filling free
seats from the waitlist when the cohort fills itself (``Cohort.auto_fill_waitlist``)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from trainingmgr.accounts.models import User
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import (
    Cohort,
    CohortStatus,
    Enrolment,
    EnrolmentStatus,
    seats_taken,
)
from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.extensions import db
from trainingmgr.mail import notify

S = EnrolmentStatus


# --------------------------------------------------------------------------- seats


@dataclass
class Seats:
    """Seats taken and the end of the waitlist of a locked cohort, kept current as we go."""

    cohort: Cohort
    active: int
    last_position: int

    def full(self) -> bool:
        return self.cohort.capacity is not None and self.active >= self.cohort.capacity

    def queue(self) -> bool:
        """Whether a newcomer joins the waitlist: no seat left beyond those the people
        already waiting are owed (a freed seat goes to them first)."""
        capacity = self.cohort.capacity
        return capacity is not None and self.active + self.last_position >= capacity

    def free(self) -> int | None:
        """Seats free (None: no limit)."""
        capacity = self.cohort.capacity
        return None if capacity is None else max(capacity - self.active, 0)

    def full_message(self) -> str:
        return _(
            "The cohort is full (%(taken)s of %(capacity)s): "
            "put them on the waitlist or raise the capacity.",
            taken=self.active,
            capacity=self.cohort.capacity,
        )


def seats_of(cohort_id: int, *, lock: bool) -> Seats:
    """The cohort (its row locked when ``lock``) with its seats taken and waitlist end."""
    query = sa.select(Cohort).where(Cohort.id == cohort_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    cohort = db.session.scalar(query)
    if cohort is None:
        raise NotFound(_("There is no such cohort."))
    active, last = db.session.execute(
        sa.select(
            seats_taken(),
            sa.func.max(Enrolment.waitlist_position),
        ).where(Enrolment.cohort_id == cohort_id)
    ).one()
    return Seats(cohort, active or 0, last or 0)


def lock_cohort(cohort_id: int) -> Seats:
    """Lock the cohort's row for a change of its roster; refused when it is archived."""
    seats = seats_of(cohort_id, lock=True)
    if seats.cohort.status == CohortStatus.ARCHIVED:
        raise DomainError(_("This cohort is archived: its roster can no longer be changed."))
    return seats


def renumber_waitlist(cohort_id: int) -> None:
    """Number the waitlist 1..n in its current order."""
    waiting = db.session.scalars(
        sa.select(Enrolment)
        .where(Enrolment.cohort_id == cohort_id, Enrolment.status == S.WAITLISTED)
        .order_by(Enrolment.waitlist_position, Enrolment.id)
    )
    for position, enrolment in enumerate(waiting, start=1):
        if enrolment.waitlist_position != position:
            enrolment.waitlist_position = position


FILL_ACTION = "enrolment.waitlist_fill"


def fill_waitlist(cohort_id: int, *, actor: User | None) -> list[Enrolment]:
    """Give the cohort's free seats to the waitlist, first come first served, when the
    cohort fills itself (``Cohort.auto_fill_waitlist``, on unless the coordinator turned it
    off) and is not archived. Each promotion is audited and the person is sent "you are
    enrolled"; the rest of the waitlist moves up. Returns those promoted (a fixed number of
    queries, whatever their number)."""
    seats = seats_of(cohort_id, lock=True)
    cohort = seats.cohort
    if not cohort.auto_fill_waitlist or cohort.status == CohortStatus.ARCHIVED:
        return []
    free = seats.free()
    if free == 0 or seats.last_position == 0:
        return []
    query = (
        sa.select(Enrolment)
        .where(Enrolment.cohort_id == cohort_id, Enrolment.status == S.WAITLISTED)
        .order_by(Enrolment.waitlist_position, Enrolment.id)
        .options(joinedload(Enrolment.person))
    )
    promoted = list(db.session.scalars(query if free is None else query.limit(free)))
    events = []
    for enrolment in promoted:
        events.append(
            {
                "object_id": enrolment.id,
                "changes": {
                    "status": [S.WAITLISTED.value, S.ENROLLED.value],
                    "waitlist_position": [enrolment.waitlist_position, None],
                },
                "summary": f"{enrolment.person.full_name}: waitlisted -> enrolled (seat free)",
            }
        )
        enrolment.status = S.ENROLLED
        enrolment.waitlist_position = None
    db.session.flush()
    renumber_waitlist(cohort_id)
    audit.record_many(
        events,
        action=FILL_ACTION,
        actor=actor,
        object_type=Enrolment.__tablename__,
        programme_id=cohort.programme_id,
    )
    notify.enrolment_confirmations(promoted)
    return promoted
