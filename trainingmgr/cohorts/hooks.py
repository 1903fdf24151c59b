"""What the cohorts domain registers: with core's scope check (cohorts, sessions and
enrolments belong to their cohort's programme), and its part of a merge of two people
(``people.signals``: the sessions they teach)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from trainingmgr.cohorts.models import Cohort, Enrolment, Session, session_trainers
from trainingmgr.core import scope
from trainingmgr.extensions import db
from trainingmgr.people import signals

if TYPE_CHECKING:
    from trainingmgr.people.merge import MergePlan


def cohort_ids(programme_ids: Collection[int]) -> sa.Select[Any]:
    """The ids of these programmes' cohorts, as an uncorrelated subquery."""
    # Never correlated: the enclosing query may itself select from this table.
    return (
        sa.select(Cohort.id).where(Cohort.programme_id.in_(sorted(programme_ids))).correlate(None)
    )


@scope.scoped_argument("cohort_id")
def cohort_outside(cohort_id: Any, ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(Cohort.id == cohort_id, Cohort.programme_id.not_in(sorted(ids)))


@scope.scoped_argument("session_id")
def session_outside(session_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(Session.id == session_id, cohort_outside(Session.cohort_id, ids))


@scope.scoped_argument("enrolment_id")
def enrolment_outside(enrolment_id: int, ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(Enrolment.id == enrolment_id, cohort_outside(Enrolment.cohort_id, ids))


scope.provide("cohort_ids", cohort_ids)


def other_cohorts(programme_ids: Collection[int]) -> sa.Select[Any]:
    """The ids of the cohorts of programmes not in ``programme_ids``, as a subquery."""
    return sa.select(Cohort.id).where(Cohort.programme_id.not_in(sorted(programme_ids)))


@signals.merge_elsewhere.connect
def teaches_elsewhere(person_id: int, *, programme_ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        session_trainers.c.person_id == person_id,
        session_trainers.c.session_id == Session.id,
        Session.cohort_id.in_(other_cohorts(programme_ids)),
    )


@signals.person_merge_planning.connect
def plan_sessions_taught(plan: MergePlan) -> None:
    """The sessions the duplicate teaches: moved, or shared with the kept record."""
    taught: dict[int, set[int]] = defaultdict(set)
    for session_id, person_id in db.session.execute(
        sa.select(session_trainers.c.session_id, session_trainers.c.person_id).where(
            session_trainers.c.person_id.in_([plan.keep.id, plan.duplicate.id])
        )
    ):
        taught[person_id].add(session_id)
    plan.sessions_moved = sorted(taught[plan.duplicate.id] - taught[plan.keep.id])
    plan.sessions_shared = sorted(taught[plan.duplicate.id] & taught[plan.keep.id])


@signals.person_merging.connect
def merge_sessions_taught(plan: MergePlan) -> None:
    """The sessions the duplicate teaches are taught by the kept person (once)."""
    duplicate = plan.duplicate.id
    if plan.sessions_shared:
        db.session.execute(
            sa.delete(session_trainers).where(
                session_trainers.c.person_id == duplicate,
                session_trainers.c.session_id.in_(plan.sessions_shared),
            )
        )
    if plan.sessions_moved:
        db.session.execute(
            sa.update(session_trainers)
            .where(session_trainers.c.person_id == duplicate)
            .values(person_id=plan.keep.id)
        )
