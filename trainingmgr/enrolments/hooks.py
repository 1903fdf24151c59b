"""The enrolments domain's receivers of other domains' signals."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from trainingmgr.cohorts.hooks import other_cohorts
from trainingmgr.cohorts.models import Cohort, Enrolment, EnrolmentStatus
from trainingmgr.extensions import db
from trainingmgr.people import signals

if TYPE_CHECKING:
    from trainingmgr.people.merge import MergePlan

_BULK = {"synchronize_session": False}

# Which enrolment survives when both records are enrolled in one cohort: the higher rank.
STATUS_RANK = {
    EnrolmentStatus.COMPLETED: 6,
    EnrolmentStatus.ENROLLED: 5,
    EnrolmentStatus.NOT_COMPLETED: 4,
    EnrolmentStatus.WAITLISTED: 3,
    EnrolmentStatus.APPLIED: 2,
    EnrolmentStatus.WITHDRAWN: 1,
}


@signals.merge_elsewhere.connect
def enrolled_elsewhere(person_id: int, *, programme_ids: Collection[int]) -> sa.ColumnElement[bool]:
    return sa.exists().where(
        Enrolment.person_id == person_id, Enrolment.cohort_id.in_(other_cohorts(programme_ids))
    )


@signals.person_merge_planning.connect
def plan_enrolments(plan: MergePlan) -> None:
    """The duplicate's enrolments that move, and the cohorts both records are enrolled in
    (the higher-ranked enrolment stays)."""
    enrolments = list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.person_id.in_([plan.keep.id, plan.duplicate.id]))
            .options(joinedload(Enrolment.cohort).joinedload(Cohort.programme))
            .order_by(Enrolment.id)
        )
    )
    kept_by_cohort = {e.cohort_id: e for e in enrolments if e.person_id == plan.keep.id}
    for theirs in (e for e in enrolments if e.person_id == plan.duplicate.id):
        ours = kept_by_cohort.get(theirs.cohort_id)
        if ours is None:
            plan.enrolments_moved.append(theirs)
        elif STATUS_RANK[theirs.status] > STATUS_RANK[ours.status]:
            plan.add_conflict(theirs.cohort, theirs, ours)
        else:
            plan.add_conflict(theirs.cohort, ours, theirs)


@signals.enrolments_merging.connect
def merge_enrolments(plan: MergePlan) -> None:
    """Where both records were enrolled in one cohort the lower-ranked enrolment goes (its
    attendance and certificates were moved first); the duplicate's others are the kept
    person's."""
    for conflict in plan.conflicts:
        db.session.execute(
            sa.delete(Enrolment).where(Enrolment.id == conflict.dropped.id),
            execution_options=_BULK,
        )
        db.session.expunge(conflict.dropped)  # gone from the database; keep it readable
    db.session.execute(
        sa.update(Enrolment)
        .where(Enrolment.person_id == plan.duplicate.id)
        .values(person_id=plan.keep.id),
        execution_options=_BULK,
    )
