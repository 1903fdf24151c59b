"""Merging two records of one person: the plan (what would move, nothing changed) and the
merge itself. The people domain moves its own rows; every other domain moves its rows through
the signals of ``people.signals`` (receivers in its ``hooks`` module)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from trainingmgr.accounts.models import User
from trainingmgr.attendance.models import AttendanceRecord, AttendanceStatus
from trainingmgr.audit import services as audit
from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Session,
    session_trainers,
)
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.people import signals
from trainingmgr.people.models import Person, Sex

# Which enrolment survives when both records are enrolled in one cohort: the higher rank.
STATUS_RANK = {
    EnrolmentStatus.COMPLETED: 6,
    EnrolmentStatus.ENROLLED: 5,
    EnrolmentStatus.NOT_COMPLETED: 4,
    EnrolmentStatus.WAITLISTED: 3,
    EnrolmentStatus.APPLIED: 2,
    EnrolmentStatus.WITHDRAWN: 1,
}

# Fields of the kept record filled from the duplicate when empty (notes are appended).
FILLABLE = (
    "first_name",
    "last_name",
    "name_latin",
    "email",
    "sex",
    "country",
    "organisation",
    "position",
    "phone",
)


@dataclass(frozen=True)
class AttendanceRow:
    id: int
    enrolment_id: int
    session_id: int
    status: AttendanceStatus


@dataclass
class EnrolmentConflict:
    """Both records are enrolled in one cohort: ``kept`` stays, ``dropped`` is deleted after
    its attendance records for sessions ``kept`` has none for move onto ``kept``."""

    cohort: Cohort
    kept: Enrolment
    dropped: Enrolment
    attendance_moved: list[AttendanceRow] = field(default_factory=list)
    attendance_dropped: list[AttendanceRow] = field(default_factory=list)


@dataclass
class MergePlan:
    keep: Person
    duplicate: Person
    enrolments_moved: list[Enrolment]
    attendance_moved: int
    conflicts: list[EnrolmentConflict]
    sessions_moved: list[int]
    sessions_shared: list[int]
    certificates: list[int]
    user: User | None
    fields_filled: dict[str, Any]
    notes_appended: bool

    @property
    def nothing_to_move(self) -> bool:
        return not (
            self.enrolments_moved
            or self.conflicts
            or self.sessions_moved
            or self.sessions_shared
            or self.certificates
            or self.user
            or self.fields_filled
            or self.notes_appended
        )


def _check_merge(keep: Person, duplicate: Person) -> None:
    if keep.id == duplicate.id:
        raise DomainError(_("Choose two different records: a record cannot be merged into itself."))
    if keep.merged_into_id is not None:
        raise DomainError(
            _(
                "%(name)s (#%(id)s) was already merged into another record: "
                "choose that record to keep instead.",
                name=keep.full_name,
                id=keep.id,
            ),
            "keep",
        )
    if duplicate.merged_into_id is not None:
        raise DomainError(
            _(
                "%(name)s (#%(id)s) was already merged into another record.",
                name=duplicate.full_name,
                id=duplicate.id,
            ),
            "duplicate",
        )


def _elsewhere(person_id: int, programme_ids: Collection[int]) -> bool:
    """Whether the person is enrolled in, or teaches in, a programme not in ``programme_ids``."""
    cohorts = sa.select(Cohort.id).where(Cohort.programme_id.not_in(sorted(programme_ids)))
    enrolled = sa.exists().where(Enrolment.person_id == person_id, Enrolment.cohort_id.in_(cohorts))
    teaches = sa.exists().where(
        session_trainers.c.person_id == person_id,
        session_trainers.c.session_id == Session.id,
        Session.cohort_id.in_(cohorts),
    )
    return bool(db.session.scalar(sa.select(sa.or_(enrolled, teaches))))


def _accounts(keep: Person, duplicate: Person) -> dict[int, User]:
    """{person id: user account} of the two records; refused when both have one."""
    users = {
        u.person_id: u
        for u in db.session.scalars(
            sa.select(User).where(User.person_id.in_([keep.id, duplicate.id]))
        )
    }
    if keep.id in users and duplicate.id in users:
        raise DomainError(
            _(
                "Both records have a user account (%(kept)s and %(other)s). A person has one "
                "account: deactivate or unlink one of them first, then merge.",
                kept=users[keep.id].email,
                other=users[duplicate.id].email,
            )
        )
    return users


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


def _enrolments(
    keep: Person, duplicate: Person
) -> tuple[list[Enrolment], int, list[EnrolmentConflict]]:
    """The duplicate's enrolments that move, how many attendance records move with them, and
    the cohorts both are enrolled in (the higher-ranked enrolment stays)."""
    enrolments = list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.person_id.in_([keep.id, duplicate.id]))
            .options(joinedload(Enrolment.cohort).joinedload(Cohort.programme))
            .order_by(Enrolment.id)
        )
    )
    kept_by_cohort = {e.cohort_id: e for e in enrolments if e.person_id == keep.id}
    theirs = [e for e in enrolments if e.person_id == duplicate.id]
    records = _attendance_rows(
        [e.id for e in theirs]
        + [kept_by_cohort[e.cohort_id].id for e in theirs if e.cohort_id in kept_by_cohort]
    )
    moved: list[Enrolment] = []
    conflicts: list[EnrolmentConflict] = []
    attendance_moved = 0
    for theirs_e in theirs:
        ours = kept_by_cohort.get(theirs_e.cohort_id)
        if ours is None:
            moved.append(theirs_e)
            attendance_moved += len(records[theirs_e.id])
            continue
        better_theirs = STATUS_RANK[theirs_e.status] > STATUS_RANK[ours.status]
        kept, dropped = (theirs_e, ours) if better_theirs else (ours, theirs_e)
        conflict = EnrolmentConflict(theirs_e.cohort, kept, dropped)
        covered = {r.session_id for r in records[kept.id]}
        for record in records[dropped.id]:
            if record.session_id in covered:
                conflict.attendance_dropped.append(record)
            else:
                conflict.attendance_moved.append(record)
        conflicts.append(conflict)
    return moved, attendance_moved, conflicts


def _taught(keep: Person, duplicate: Person) -> dict[int, set[int]]:
    """{person id: ids of the sessions they teach} of the two records."""
    taught: dict[int, set[int]] = defaultdict(set)
    for session_id, person_id in db.session.execute(
        sa.select(session_trainers.c.session_id, session_trainers.c.person_id).where(
            session_trainers.c.person_id.in_([keep.id, duplicate.id])
        )
    ):
        taught[person_id].add(session_id)
    return taught


def _fields_filled(keep: Person, duplicate: Person) -> tuple[dict[str, Any], bool]:
    """The kept record's empty fields that the duplicate fills, and whether the duplicate's
    notes are appended to the kept record's."""
    filled = {
        name: getattr(duplicate, name)
        for name in FILLABLE
        if not getattr(keep, name) and getattr(duplicate, name)
    }
    appended = bool(duplicate.notes and keep.notes and duplicate.notes != keep.notes)
    if duplicate.notes and not keep.notes:
        filled["notes"] = duplicate.notes
    return filled, appended


def plan_merge(
    keep: Person, duplicate: Person, programme_ids: Collection[int] | None = None
) -> MergePlan:
    """What merging ``duplicate`` into ``keep`` would move (nothing is changed).

    Raises ``DomainError`` when the merge is not allowed. A coordinator (``programme_ids``:
    their programmes) may not merge away a record that is enrolled or teaches in another
    programme: its enrolments would move without that programme's coordinators."""
    _check_merge(keep, duplicate)
    if programme_ids is not None and _elsewhere(duplicate.id, programme_ids):
        raise DomainError(
            _(
                "%(name)s (#%(id)s) also takes part in programmes you do not coordinate, so "
                "only an administrator may merge this record into another.",
                name=duplicate.full_name,
                id=duplicate.id,
            ),
            "duplicate",
        )
    users = _accounts(keep, duplicate)
    moved, attendance_moved, conflicts = _enrolments(keep, duplicate)
    taught = _taught(keep, duplicate)
    certificates = list(
        db.session.scalars(
            sa.select(Certificate.id)
            .where(Certificate.person_id == duplicate.id)
            .order_by(Certificate.id)
        )
    )
    fields_filled, notes_appended = _fields_filled(keep, duplicate)
    return MergePlan(
        keep=keep,
        duplicate=duplicate,
        enrolments_moved=moved,
        attendance_moved=attendance_moved,
        conflicts=conflicts,
        sessions_moved=sorted(taught[duplicate.id] - taught[keep.id]),
        sessions_shared=sorted(taught[duplicate.id] & taught[keep.id]),
        certificates=certificates,
        user=users.get(duplicate.id),
        fields_filled=fields_filled,
        notes_appended=notes_appended,
    )


def merge_people(
    keep: Person,
    duplicate: Person,
    *,
    actor: User | None,
    programme_ids: Collection[int] | None = None,
) -> MergePlan:
    """Merge ``duplicate`` into ``keep`` so that nothing is lost (see ``plan_merge``).

    Enrolments, attendance, sessions taught, certificates and the user account move to
    ``keep``, each by its own domain (``people.signals``); empty fields of ``keep`` are
    filled from ``duplicate``, which stays as a record pointing at ``keep``
    (``merged_into_id``) with its e-mail cleared. Audited; the caller commits (one
    transaction)."""
    plan = plan_merge(keep, duplicate, programme_ids)
    changes = _merge_changes(plan)
    summary = f"Merged #{duplicate.id} {duplicate.full_name} into #{keep.id} {keep.full_name}"
    db.session.flush()
    signals.enrolment_rows_merging.send(plan)
    signals.enrolments_merging.send(plan)
    signals.person_merging.send(plan)
    # Records merged earlier into the duplicate now point at the kept record.
    db.session.execute(
        sa.update(Person)
        .where(Person.merged_into_id == duplicate.id)
        .values(merged_into_id=keep.id),
        execution_options={"synchronize_session": False},
    )
    db.session.expire_all()

    duplicate.merged_into_id = keep.id
    duplicate.email = None  # frees the unique e-mail for the kept record
    db.session.flush()
    for name, value in plan.fields_filled.items():
        setattr(keep, name, value)
    if plan.notes_appended:
        keep.notes = f"{keep.notes}\n\n{duplicate.notes}"
    db.session.flush()

    audit.record("person.merge", actor=actor, obj=keep, changes=changes, summary=summary)
    return plan


def _merge_changes(plan: MergePlan) -> dict[str, Any]:
    return {
        "duplicate_id": plan.duplicate.id,
        "enrolments_moved": [e.id for e in plan.enrolments_moved],
        "attendance_moved_with_enrolments": plan.attendance_moved,
        "enrolments_merged": [
            {
                "cohort_id": c.cohort.id,
                "kept_enrolment_id": c.kept.id,
                "dropped_enrolment_id": c.dropped.id,
                "dropped_status": c.dropped.status.value,
                "attendance_moved": [r.id for r in c.attendance_moved],
                "attendance_dropped": [
                    {"session_id": r.session_id, "status": r.status.value}
                    for r in c.attendance_dropped
                ],
            }
            for c in plan.conflicts
        ],
        "sessions_taught_moved": plan.sessions_moved,
        "sessions_taught_already": plan.sessions_shared,
        "certificates_moved": plan.certificates,
        "user_moved": plan.user.id if plan.user else None,
        "fields_filled": {k: _snapshot(v) for k, v in plan.fields_filled.items()},
        "notes_appended": plan.notes_appended,
    }


def _snapshot(value: Any) -> Any:
    return value.value if isinstance(value, Sex) else value
