"""The attendance domain's receivers of other domains' signals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from trainingmgr.attendance.models import AttendanceRecord
from trainingmgr.extensions import db
from trainingmgr.people import signals

if TYPE_CHECKING:
    from trainingmgr.people.merge import MergePlan

_BULK = {"synchronize_session": False}


@signals.enrolment_rows_merging.connect
def merge_attendance(plan: MergePlan) -> None:
    """Where both records were enrolled in one cohort: the dropped enrolment's records move to
    the kept one for the sessions it has no record of; the others go."""
    for conflict in plan.conflicts:
        if conflict.attendance_moved:
            db.session.execute(
                sa.update(AttendanceRecord)
                .where(AttendanceRecord.id.in_([r.id for r in conflict.attendance_moved]))
                .values(enrolment_id=conflict.kept.id),
                execution_options=_BULK,
            )
        db.session.execute(
            sa.delete(AttendanceRecord).where(AttendanceRecord.enrolment_id == conflict.dropped.id),
            execution_options=_BULK,
        )
