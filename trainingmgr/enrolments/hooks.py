"""The enrolments domain's receivers of other domains' signals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from trainingmgr.cohorts.models import Enrolment
from trainingmgr.extensions import db
from trainingmgr.people import signals

if TYPE_CHECKING:
    from trainingmgr.people.merge import MergePlan

_BULK = {"synchronize_session": False}


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
