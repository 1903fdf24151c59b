"""A session's roster: loading it (plain rows, a fixed number of queries) and saving it in
one transaction with bulk statements, corrections audited and concurrent changes merged or
returned as conflicts. Functions here never commit: views and the CLI do."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from trainingmgr.accounts.models import User
from trainingmgr.attendance.access import recording_refusal, session_for_recording
from trainingmgr.attendance.models import (
    AttendanceRecord,
    AttendanceSource,
    AttendanceStatus,
)
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import (
    Enrolment,
    Session,
)
from trainingmgr.core.errors import DomainError
from trainingmgr.core.types import UTCDateTime, utcnow
from trainingmgr.extensions import db, on_postgresql
from trainingmgr.people.models import Person

NOTE_MAX = 500


def _person_name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p)


def _user_name(display: str | None, email: str | None, first: str | None, last: str | None) -> str:
    return _person_name(first, last) or display or email or _("a deleted user")


@dataclass(frozen=True, slots=True)
class RosterPerson:
    first_name: str
    last_name: str

    @property
    def full_name(self) -> str:
        return _person_name(self.first_name, self.last_name)


@dataclass(frozen=True, slots=True)
class RosterEnrolment:
    """What the roster shows of an enrolment (read-only, not an ORM object)."""

    id: int
    person: RosterPerson


@dataclass(frozen=True, slots=True)
class RosterRecord:
    """What the roster shows of an attendance record (read-only, not an ORM object)."""

    id: int
    status: AttendanceStatus
    note: str
    version: int
    source: AttendanceSource
    recorded_at: datetime


@dataclass(frozen=True)
class RosterRow:
    enrolment: RosterEnrolment
    record: RosterRecord | None
    recorded_by: str = ""

    @property
    def status(self) -> AttendanceStatus | None:
        return self.record.status if self.record else None


@dataclass
class Roster:
    session: Session
    rows: list[RosterRow]
    refusal: str | None = None  # why it cannot be recorded now (read-only roster)

    @property
    def counts(self) -> Counter[AttendanceStatus]:
        return Counter(r.status for r in self.rows if r.status is not None)

    @property
    def recorded(self) -> int:
        return sum(1 for r in self.rows if r.record is not None)


_STATUS_OF = {s.value: s for s in AttendanceStatus}
_SOURCE_OF = {s.value: s for s in AttendanceSource}


def _enrolments_with_record(columns: Callable[[Any, Any, Any], Sequence[Any]]) -> sa.Select[Any]:
    """The cohort's active enrolments (``cohort_id`` bound per call), each with its person,
    its record for the session (``session_id``; if any) and who recorded it: ``columns(rec,
    recorder, recorder_person)`` says what to read."""
    recorder = aliased(User)
    recorder_person = aliased(Person)
    rec = AttendanceRecord
    return (
        sa.select(*columns(rec, recorder, recorder_person))
        .join(Person, Person.id == Enrolment.person_id)
        .outerjoin(
            rec,
            sa.and_(rec.enrolment_id == Enrolment.id, rec.session_id == sa.bindparam("session_id")),
        )
        .outerjoin(recorder, recorder.id == rec.recorded_by_id)
        .outerjoin(recorder_person, recorder_person.id == recorder.person_id)
        .where(Enrolment.cohort_id == sa.bindparam("cohort_id"))
        .where(Enrolment.active)
    )


@cache
def _roster_statement() -> sa.Select[Any]:
    """The roster's one query, built once (``session_id`` and ``cohort_id`` bound per call):
    building it cost a 120-person roster as much as running it."""
    return _enrolments_with_record(
        lambda rec, recorder, recorder_person: (
            Enrolment.id,
            Person.first_name,
            Person.last_name,
            rec.id,
            sa.type_coerce(rec.status, sa.String),
            rec.note,
            rec.version,
            sa.type_coerce(rec.source, sa.String),
            rec.recorded_at,
            recorder.display_name,
            recorder.email,
            recorder_person.first_name,
            recorder_person.last_name,
        )
    ).order_by(Person.last_name, Person.first_name, Enrolment.id)


def load_roster(session_id: int, now: datetime | None = None, *, actor: User) -> Roster:
    """A session's roster: every active enrolment with its record and who recorded it.

    Runs a fixed number of queries whatever the number of participants, and loads plain
    rows through the session's connection (no ORM objects: they cost most of the time of a
    120-person roster).
    """
    session = session_for_recording(session_id, actor=actor)
    rows = db.session.connection().execute(
        _roster_statement(), {"session_id": session.id, "cohort_id": session.cohort_id}
    )
    result = []
    names: dict[tuple[Any, ...], str] = {}  # the same few people recorded most rows
    for eid, first, last, rid, status, note, version, source, at, *by in rows:
        enrolment = RosterEnrolment(eid, RosterPerson(first, last))
        if rid is None:
            result.append(RosterRow(enrolment, None))
            continue
        record = RosterRecord(rid, _STATUS_OF[status], note, version, _SOURCE_OF[source], at)
        key = tuple(by)
        if key not in names:
            names[key] = _user_name(*by)
        result.append(RosterRow(enrolment, record, names[key]))
    return Roster(session=session, rows=result, refusal=recording_refusal(session, now))


@dataclass(frozen=True)
class RowChange:
    """One roster row as submitted: the chosen status and note, and what was loaded."""

    enrolment_id: int
    status: AttendanceStatus | None
    note: str = ""
    loaded_status: AttendanceStatus | None = None
    loaded_note: str = ""
    loaded_version: int = 0  # 0: there was no record when the roster was loaded

    @property
    def changed(self) -> bool:
        return (self.status or self.loaded_status, self.note) != (
            self.loaded_status,
            self.loaded_note,
        )


@dataclass(frozen=True)
class Conflict:
    """A change not saved because someone else changed the same person meanwhile."""

    enrolment_id: int
    person_name: str
    your_status: AttendanceStatus
    your_note: str
    their_status: AttendanceStatus
    their_note: str
    by: str
    at: datetime


@dataclass
class SaveResult:
    recorded: int = 0  # new records
    corrected: int = 0  # existing records changed
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def saved(self) -> int:
        return self.recorded + self.corrected


def _check_changes(rows: Sequence[RowChange]) -> list[RowChange]:
    seen: set[int] = set()
    changed = []
    for row in rows:
        if row.enrolment_id in seen:
            raise DomainError(_("The roster lists a person twice. Reload the page and try again."))
        seen.add(row.enrolment_id)
        if len(row.note) > NOTE_MAX:
            raise DomainError(
                _("A note can be at most %(n)s characters.", n=NOTE_MAX),
                field=f"enrolment-{row.enrolment_id}",
            )
        if not row.changed:
            continue
        if (row.status or row.loaded_status) is None:
            raise DomainError(
                _("Choose a status before adding a note."), field=f"enrolment-{row.enrolment_id}"
            )
        changed.append(row)
    return changed


def _merge(row: RowChange, current: Any) -> tuple[AttendanceStatus, str] | None:
    """What to write for ``row`` given the record in the database now; None on a conflict.

    Only the fields the user changed are written. A field someone else changed since the
    roster was loaded (to a value different from the user's) is a conflict: nothing of that
    person is overwritten.
    """
    status = row.status or row.loaded_status
    mine = {"status": status, "note": row.note}
    loaded = {"status": row.loaded_status, "note": row.loaded_note}
    if current.version == row.loaded_version:
        return status, row.note  # nobody changed it meanwhile
    theirs = {"status": current.status, "note": current.note}
    result = {}
    for key in ("status", "note"):
        if mine[key] == loaded[key]:
            result[key] = theirs[key]  # not changed by this user: keep what is there
        elif theirs[key] in (loaded[key], mine[key]):
            result[key] = mine[key]
        else:
            return None
    return result["status"], result["note"]


_record_table = AttendanceRecord.__table__
# Elsewhere (SQLite): an executemany; RETURNING would make it one multi-row INSERT.
_INSERT_RECORDS = _record_table.insert()


@cache
def _insert_unnest() -> sa.Insert:
    """PostgreSQL: the new records of a save as one INSERT ... SELECT from arrays (one
    statement whatever the number of people: no 1,000 parameters to build and parse, and the
    totals' trigger runs once for the whole roster)."""
    rows = (
        sa.func.unnest(
            sa.bindparam("enrolment_ids", type_=postgresql.ARRAY(sa.Integer)),
            sa.bindparam("statuses", type_=postgresql.ARRAY(sa.String)),
            sa.bindparam("notes", type_=postgresql.ARRAY(sa.String)),
        )
        .table_valued("enrolment_id", "status", "note")
        .render_derived()
    )
    common = ("session_id", "cohort_id", "source", "recorded_by_id", "recorded_at", "version")
    values = {name: sa.bindparam(name, type_=_record_table.c[name].type) for name in common}
    values.update(enrolment_id=rows.c.enrolment_id, status=rows.c.status, note=rows.c.note)
    return _record_table.insert().from_select(list(values), sa.select(*values.values()))


def _insert_records(session: Session, rows: list[RowChange], now: datetime, *, actor: User) -> None:
    """Write the records of ``rows``, new for ``session``, in one statement."""
    common = {
        "session_id": session.id,
        "cohort_id": session.cohort_id,
        "source": AttendanceSource.ROSTER,
        "recorded_by_id": actor.id,
        "recorded_at": now,
        "version": 1,
    }
    if on_postgresql():
        arrays = {
            "enrolment_ids": [r.enrolment_id for r in rows],
            "statuses": [AttendanceStatus(r.status).value for r in rows],
            "notes": [r.note for r in rows],
        }
        db.session.execute(_insert_unnest(), common | arrays)
        return
    records = [
        common | {"enrolment_id": r.enrolment_id, "status": r.status, "note": r.note} for r in rows
    ]
    db.session.execute(_INSERT_RECORDS, records)


_UPDATE_RECORD = (
    _record_table.update()
    .where(_record_table.c.id == sa.bindparam("b_id"))
    .values(
        status=sa.bindparam("b_status"),
        note=sa.bindparam("b_note"),
        source=sa.bindparam("b_source"),
        version=sa.bindparam("b_version"),
        recorded_by_id=sa.bindparam("b_by"),
        recorded_at=sa.bindparam("b_at", type_=UTCDateTime()),
    )
)


def _audit_corrections(
    session: Session, corrections: list[dict[str, Any]], ip: str | None, *, actor: User
) -> None:
    """One audit event for all the corrections of one save, each with its old and new values
    (one INSERT whatever the number of people corrected)."""
    described = "; ".join(
        f"{c['person']}: {' -> '.join(c['status'])}" if "status" in c else f"{c['person']}: note"
        for c in corrections
    )
    audit.record(
        "attendance.correct",
        actor=actor,
        obj=session,
        programme_id=session.cohort.programme_id,
        changes={"corrections": corrections},
        summary=(
            f"{session.display_title} {session.starts_at:%Y-%m-%d}, "
            f"{len(corrections)} corrected: {described}"
        ),
        ip=ip,
    )


@cache
def _current_statement() -> sa.Select[Any]:
    """The changed people's enrolments on the roster, each with its record for the session
    (if any) and who recorded it: one query checks who is still enrolled and reads what is
    there now (built once; ``ids``, ``session_id`` and ``cohort_id`` bound per call)."""
    return _enrolments_with_record(
        lambda rec, recorder, recorder_person: (
            Enrolment.id.label("enrolment_id"),
            rec.id,
            rec.status,
            rec.note,
            rec.version,
            rec.recorded_at,
            Person.first_name,
            Person.last_name,
            recorder.display_name.label("by_display"),
            recorder.email.label("by_email"),
            recorder_person.first_name.label("by_first"),
            recorder_person.last_name.label("by_last"),
        )
    ).where(Enrolment.id.in_(sa.bindparam("ids", expanding=True)))


def _current_records(session: Session, ids: list[int]) -> dict[int, Any]:
    """What is recorded now for each of ``ids``, by enrolment id (no entry: no record).
    DomainError when one of them is no longer on the roster."""
    rows = db.session.execute(
        _current_statement(), {"ids": ids, "session_id": session.id, "cohort_id": session.cohort_id}
    ).all()
    if len(rows) != len(ids):
        raise DomainError(
            _("Someone on this roster is no longer enrolled in the cohort. Reload the page.")
        )
    return {row.enrolment_id: row for row in rows if row.id is not None}


@dataclass
class _Plan:
    """The statements a save will run, and the conflicts it found."""

    inserts: list[RowChange] = field(default_factory=list)  # rows with no record yet
    updates: list[dict[str, Any]] = field(default_factory=list)
    corrections: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def _conflict(row: RowChange, cur: Any) -> Conflict:
    return Conflict(
        enrolment_id=row.enrolment_id,
        person_name=_person_name(cur.first_name, cur.last_name),
        your_status=row.status or row.loaded_status,  # type: ignore[arg-type]
        your_note=row.note,
        their_status=AttendanceStatus(cur.status),
        their_note=cur.note,
        by=_user_name(cur.by_display, cur.by_email, cur.by_first, cur.by_last),
        at=cur.recorded_at,
    )


def _correct(
    plan: _Plan, row: RowChange, cur: Any, merged: Any, now: datetime, *, actor: User
) -> None:
    """Plan the update of an existing record to ``merged`` (status, note), and its audit."""
    status, note = merged
    if (status, note) == (cur.status, cur.note):
        return  # already so
    plan.updates.append(
        {
            "b_id": cur.id,
            "b_status": status.value,
            "b_note": note,
            "b_source": AttendanceSource.ROSTER.value,
            "b_version": cur.version + 1,
            "b_by": actor.id,
            "b_at": now,
        }
    )
    correction: dict[str, Any] = {
        "record_id": cur.id,
        "enrolment_id": row.enrolment_id,
        "person": _person_name(cur.first_name, cur.last_name),
    }
    if status != cur.status:
        correction["status"] = [str(cur.status), str(status)]
    if note != cur.note:
        correction["note"] = [cur.note, note]
    plan.corrections.append(correction)


def _plan(
    session: Session,
    changed: list[RowChange],
    current: dict[int, Any],
    now: datetime,
    *,
    actor: User,
) -> _Plan:
    plan = _Plan()
    for row in changed:
        cur = current.get(row.enrolment_id)
        if cur is None:
            plan.inserts.append(row)
            continue
        merged = _merge(row, cur)
        if merged is None:
            plan.conflicts.append(_conflict(row, cur))
        else:
            _correct(plan, row, cur, merged, now, actor=actor)
    return plan


def save_roster(
    session_id: int,
    rows: Sequence[RowChange],
    *,
    actor: User,
    now: datetime | None = None,
    ip: str | None = None,
) -> SaveResult:
    """Record a roster in one transaction with bulk statements (the caller commits).

    Only rows whose status or note the actor changed are written. Corrections of existing
    records are audited with their old and new values. Conflicting changes (someone else
    changed the same person since the roster was loaded) are returned, not written.
    """
    now = now or utcnow()
    session = session_for_recording(session_id, actor=actor, lock=True)
    refusal = recording_refusal(session, now)
    if refusal:
        raise DomainError(refusal)
    changed = _check_changes(rows)
    if not changed:
        return SaveResult()
    current = _current_records(session, [r.enrolment_id for r in changed])
    plan = _plan(session, changed, current, now, actor=actor)
    if plan.corrections:
        _audit_corrections(session, plan.corrections, ip, actor=actor)
    if plan.inserts:
        _insert_records(session, plan.inserts, now, actor=actor)
    if plan.updates:
        db.session.execute(_UPDATE_RECORD, plan.updates)
    db.session.flush()
    return SaveResult(
        recorded=len(plan.inserts), corrected=len(plan.updates), conflicts=plan.conflicts
    )


def conflicts_message(saved: int, conflicts: int) -> str:
    """What a save with conflicts did, in words: how many changes were saved (if any) and
    how many were not because someone else changed the same people meanwhile."""
    parts = []
    if saved:
        parts.append(ngettext("Saved %(num)d change.", "Saved %(num)d changes.", saved))
    parts.append(
        ngettext(
            "%(num)d change was not saved because someone else changed the same person "
            "meanwhile: see below.",
            "%(num)d changes were not saved because someone else changed the same people "
            "meanwhile: see below.",
            conflicts,
        )
    )
    return " ".join(parts)
