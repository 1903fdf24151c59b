"""Merging two records of one person: the plan (what would move, nothing changed) and the
merge itself. The people domain reads and moves its own rows; every other domain says what
of the two records it holds, and moves its rows, through the signals of ``people.signals``
(receivers in its ``hooks`` module): this module imports no other domain's models."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_babel import gettext as _

from trainingmgr.audit import services as audit
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.people import signals
from trainingmgr.people.models import Person, Sex

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User
    from trainingmgr.attendance.hooks import AttendanceRow
    from trainingmgr.cohorts.models import Cohort, Enrolment

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


@dataclass
class EnrolmentConflict:
    """Both records are enrolled in one cohort: ``kept`` stays, ``dropped`` is deleted after
    its attendance records for sessions ``kept`` has none for move onto ``kept``."""

    cohort: Cohort
    kept: Enrolment
    dropped: Enrolment
    attendance_moved: list[AttendanceRow] = field(default_factory=list)
    attendance_dropped: list[AttendanceRow] = field(default_factory=list)
    # (serial of a valid certificate of ``dropped``, serial of the valid one of ``kept``):
    # the first becomes superseded by the second (filled by the certificates domain).
    certificates_superseded: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class MergePlan:
    """What a merge moves. The people domain fills ``fields_filled`` and ``notes_appended``;
    the others their parts, answering ``people.signals``: the account (accounts), the
    sessions taught (cohorts), the enrolments moved and the conflicts (enrolments), the
    certificates (certificates), the attendance records (attendance)."""

    keep: Person
    duplicate: Person
    fields_filled: dict[str, Any]
    notes_appended: bool
    enrolments_moved: list[Enrolment] = field(default_factory=list)
    attendance_moved: int = 0
    conflicts: list[EnrolmentConflict] = field(default_factory=list)
    sessions_moved: list[int] = field(default_factory=list)
    sessions_shared: list[int] = field(default_factory=list)
    certificates: list[int] = field(default_factory=list)
    user: User | None = None
    actor: User | None = None  # who merges (None: the system), for the domains' audit events

    def add_conflict(self, cohort: Cohort, kept: Enrolment, dropped: Enrolment) -> None:
        """Both records are enrolled in ``cohort``: ``kept`` stays, ``dropped`` goes."""
        self.conflicts.append(EnrolmentConflict(cohort, kept, dropped))

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
    if programme_ids is not None and _takes_part_elsewhere(duplicate.id, programme_ids):
        raise DomainError(
            _(
                "%(name)s (#%(id)s) also takes part in programmes you do not coordinate, so "
                "only an administrator may merge this record into another.",
                name=duplicate.full_name,
                id=duplicate.id,
            ),
            "duplicate",
        )
    fields_filled, notes_appended = _fields_filled(keep, duplicate)
    plan = MergePlan(keep, duplicate, fields_filled, notes_appended)
    signals.person_merge_planning.send(plan)
    signals.enrolment_rows_merge_planning.send(plan)
    return plan


def _takes_part_elsewhere(person_id: int, programme_ids: Collection[int]) -> bool:
    """Whether the person is enrolled in, or teaches in, a programme not in ``programme_ids``
    (the domains' conditions, ``people.signals.merge_elsewhere``, in one query)."""
    conditions = [
        condition
        for _receiver, condition in signals.merge_elsewhere.send(
            person_id, programme_ids=programme_ids
        )
    ]
    return bool(conditions) and bool(db.session.scalar(sa.select(sa.or_(*conditions))))


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
    plan.actor = actor
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
