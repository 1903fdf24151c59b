"""The attendance domain's receivers of other domains' signals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from trainingmgr.attendance.models import AttendanceRecord, AttendanceStatus
from trainingmgr.extensions import db
from trainingmgr.people import signals

if TYPE_CHECKING:
    from trainingmgr.people.merge import MergePlan

_BULK = {"synchronize_session": False}


@dataclass(frozen=True)
class AttendanceRow:
    id: int
    enrolment_id: int
    session_id: int
    status: AttendanceStatus


def _attendance_rows(enrolment_ids: list[int]) -> dict[int, list[AttendanceRow]]:
    """{enrolment id: its attendance records} (one query)."""
    rows: dict[int, list[AttendanceRow]] = defaultdict(list)
    if not enrolment_ids:
        return rows
    for row in db.session.execute(
        sa.select(
            AttendanceRecord.id,
            AttendanceRecord.enrolment_id,
            AttendanceRecord.session_id,
            AttendanceRecord.status,
        )
        .where(AttendanceRecord.enrolment_id.in_(enrolment_ids))
        .order_by(AttendanceRecord.id)
    ):
        rows[row.enrolment_id].append(AttendanceRow(*row))
    return rows


@signals.enrolment_rows_merge_planning.connect
def plan_attendance(plan: MergePlan) -> None:
    """The records moving with the duplicate's enrolments; where both were enrolled in one
    cohort, the dropped enrolment's records for sessions the kept one has none of move, the
    others go."""
    records = _attendance_rows(
        [e.id for e in plan.enrolments_moved]
        + [e.id for c in plan.conflicts for e in (c.kept, c.dropped)]
    )
    plan.attendance_moved = sum(len(records[e.id]) for e in plan.enrolments_moved)
    for conflict in plan.conflicts:
        covered = {r.session_id for r in records[conflict.kept.id]}
        for record in records[conflict.dropped.id]:
            if record.session_id in covered:
                conflict.attendance_dropped.append(record)
            else:
                conflict.attendance_moved.append(record)


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
