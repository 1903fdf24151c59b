"""Attendance: who may record it, the session roster and its save, self check-in, the cohort
matrix and its exports, and the one computation of attendance rates and hours.

Definitions (also on the matrix page and in docs/attendance.md):

- a session is *held* once any attendance is recorded for it; cancelled sessions never count;
- attendance rate = (present + late) / (sessions held - sessions excused);
- hours = the sum of the hours of the sessions attended present or late.

``attendance_summary`` is the only place that computes these; the matrix, the participant's
page and certificates use it. Functions here never commit: views and the CLI do.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import aliased, contains_eager, joinedload, selectinload

from trainingmgr.accounts.models import Role, User
from trainingmgr.attendance import checkin as tokens
from trainingmgr.attendance.models import (
    ATTENDED,
    AttendanceRecord,
    AttendanceSource,
    AttendanceStatus,
)
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import (
    ACTIVE_ENROLMENT,
    Cohort,
    Enrolment,
    Session,
    SessionStatus,
    session_trainers,
)
from trainingmgr.core.errors import DomainError, Forbidden, NotFound
from trainingmgr.core.permissions import allowed
from trainingmgr.core.scope import can_manage_programme
from trainingmgr.core.timefmt import fmt_date, fmt_datetime, fmt_time
from trainingmgr.core.types import UTCDateTime, utcnow
from trainingmgr.extensions import db
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import Module

# Participants may check in from this long before a session starts until it ends.
CHECKIN_OPENS_BEFORE = timedelta(minutes=30)
NOTE_MAX = 500

_COORDINATOR = frozenset({Role.COORDINATOR})

# --------------------------------------------------------------------------- permissions


def is_coordinator(user: Any) -> bool:
    """Coordinators and administrators (who record attendance in their programmes)."""
    return allowed(user, _COORDINATOR)


def coordinates(user: Any, programme_id: int) -> bool:
    """Whether ``user`` is an administrator or a coordinator of the programme."""
    return is_coordinator(user) and can_manage_programme(programme_id, user)


def teaches(user: Any, session: Session) -> bool:
    """Whether ``user``'s person is one of the session's trainers (trainers must be loaded)."""
    person_id = getattr(user, "person_id", None)
    return person_id is not None and any(p.id == person_id for p in session.trainers)


def can_record(user: Any, session: Session) -> bool:
    """The one rule for recording a session's attendance and showing its check-in code:
    administrators for any session, coordinators for their programmes' sessions, trainers for
    the sessions they teach (the cohort must be loaded)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if coordinates(user, session.cohort.programme_id):
        return True
    return user.has_role(Role.TRAINER) and teaches(user, session)


def can_view_cohort(user: Any, cohort: Cohort) -> bool:
    """Administrators see every cohort's attendance, coordinators their programmes' cohorts,
    trainers the cohorts they teach in."""
    if not getattr(user, "is_authenticated", False):
        return False
    if coordinates(user, cohort.programme_id):
        return True
    if not user.has_role(Role.TRAINER) or user.person_id is None:
        return False
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists()
                .where(session_trainers.c.session_id == Session.id)
                .where(Session.cohort_id == cohort.id)
                .where(session_trainers.c.person_id == user.person_id)
            )
        )
    )


def _load_session(session_id: int) -> Session:
    session = db.session.scalars(
        sa.select(Session)
        .where(Session.id == session_id)
        .options(
            joinedload(Session.cohort).joinedload(Cohort.programme),
            joinedload(Session.module),
            selectinload(Session.trainers),
        )
    ).first()
    if session is None:
        raise NotFound(_("There is no such session."))
    return session


def session_for_recording(user: Any, session_id: int) -> Session:
    """The session, if ``user`` may record its attendance (NotFound / Forbidden otherwise)."""
    session = _load_session(session_id)
    if not can_record(user, session):
        raise Forbidden(_("You can record attendance only for the sessions you teach."))
    return session


def _lock_session(session_id: int) -> None:
    """Serialise writes to one session's attendance (row lock on PostgreSQL).

    Two people saving the same roster, or a roster save and a check-in, then run one after
    the other, each seeing what the other committed. SQLite serialises writers anyway.
    """
    db.session.execute(sa.select(Session.id).where(Session.id == session_id).with_for_update())


def local_day(at: datetime, tz: str) -> date:
    return at.astimezone(ZoneInfo(tz)).date()


def recording_refusal(session: Session, now: datetime | None = None) -> str | None:
    """Why the roster of ``session`` cannot be recorded now, or None when it can."""
    now = now or utcnow()
    if session.status == SessionStatus.CANCELLED:
        return _("This session was cancelled: there is no attendance to record.")
    tz = session.cohort.timezone
    if local_day(session.starts_at, tz) > local_day(now, tz):
        return _(
            "Attendance can be recorded from the day of the session (%(day)s).",
            day=fmt_date(session.starts_at, tz),
        )
    return None


def _person_name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p)


def _user_name(display: str | None, email: str | None, first: str | None, last: str | None) -> str:
    return _person_name(first, last) or display or email or _("a deleted user")


# --------------------------------------------------------------------------- roster


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


def load_roster(user: Any, session_id: int, now: datetime | None = None) -> Roster:
    """A session's roster: every active enrolment with its record and who recorded it.

    Runs a fixed number of queries whatever the number of participants, and loads plain
    rows (no ORM objects: they cost most of the time of a 120-person roster).
    """
    session = session_for_recording(user, session_id)
    recorder = aliased(User)
    recorder_person = aliased(Person)
    rec = AttendanceRecord
    rows = db.session.execute(
        sa.select(
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
        .join(Person, Person.id == Enrolment.person_id)
        .outerjoin(rec, sa.and_(rec.enrolment_id == Enrolment.id, rec.session_id == session.id))
        .outerjoin(recorder, recorder.id == rec.recorded_by_id)
        .outerjoin(recorder_person, recorder_person.id == recorder.person_id)
        .where(Enrolment.cohort_id == session.cohort_id)
        .where(Enrolment.status.in_(ACTIVE_ENROLMENT))
        .order_by(Person.last_name, Person.first_name, Enrolment.id)
    ).all()
    result = []
    for eid, first, last, rid, status, note, version, source, at, d, m, f, la in rows:
        enrolment = RosterEnrolment(eid, RosterPerson(first, last))
        if rid is None:
            result.append(RosterRow(enrolment, None))
            continue
        record = RosterRecord(rid, _STATUS_OF[status], note, version, _SOURCE_OF[source], at)
        result.append(RosterRow(enrolment, record, _user_name(d, m, f, la)))
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
    user: Any, session: Session, corrections: list[dict[str, Any]], ip: str | None
) -> None:
    """One audit event for all the corrections of one save, each with its old and new values
    (one INSERT whatever the number of people corrected)."""
    described = "; ".join(
        f"{c['person']}: {' -> '.join(c['status'])}" if "status" in c else f"{c['person']}: note"
        for c in corrections
    )
    audit.record(
        "attendance.correct",
        actor=user,
        obj=session,
        programme_id=session.cohort.programme_id,
        changes={"corrections": corrections},
        summary=(
            f"{session.display_title} {session.starts_at:%Y-%m-%d}, "
            f"{len(corrections)} corrected: {described}"
        ),
        ip=ip,
    )


def save_roster(
    user: Any,
    session_id: int,
    rows: Sequence[RowChange],
    *,
    now: datetime | None = None,
    ip: str | None = None,
) -> SaveResult:
    """Record a roster in one transaction with bulk statements (the caller commits).

    Only rows whose status or note the user changed are written. Corrections of existing
    records are audited with their old and new values. Conflicting changes (someone else
    changed the same person since the roster was loaded) are returned, not written.
    """
    now = now or utcnow()
    _lock_session(session_id)
    session = session_for_recording(user, session_id)
    refusal = recording_refusal(session, now)
    if refusal:
        raise DomainError(refusal)
    changed = _check_changes(rows)
    result = SaveResult()
    if not changed:
        return result
    ids = [r.enrolment_id for r in changed]
    on_roster = set(
        db.session.scalars(
            sa.select(Enrolment.id)
            .where(Enrolment.id.in_(ids), Enrolment.cohort_id == session.cohort_id)
            .where(Enrolment.status.in_(ACTIVE_ENROLMENT))
        )
    )
    if len(on_roster) != len(ids):
        raise DomainError(
            _("Someone on this roster is no longer enrolled in the cohort. Reload the page.")
        )
    recorder = aliased(User)
    recorder_person = aliased(Person)
    current = {
        row.enrolment_id: row
        for row in db.session.execute(
            sa.select(
                AttendanceRecord.id,
                AttendanceRecord.enrolment_id,
                AttendanceRecord.status,
                AttendanceRecord.note,
                AttendanceRecord.version,
                AttendanceRecord.recorded_at,
                Person.first_name,
                Person.last_name,
                recorder.display_name.label("by_display"),
                recorder.email.label("by_email"),
                recorder_person.first_name.label("by_first"),
                recorder_person.last_name.label("by_last"),
            )
            .join(Enrolment, Enrolment.id == AttendanceRecord.enrolment_id)
            .join(Person, Person.id == Enrolment.person_id)
            .outerjoin(recorder, recorder.id == AttendanceRecord.recorded_by_id)
            .outerjoin(recorder_person, recorder_person.id == recorder.person_id)
            .where(AttendanceRecord.session_id == session.id)
            .where(AttendanceRecord.enrolment_id.in_(ids))
        )
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    corrections: list[dict[str, Any]] = []
    for row in changed:
        cur = current.get(row.enrolment_id)
        if cur is None:
            inserts.append(
                {
                    "session_id": session.id,
                    "enrolment_id": row.enrolment_id,
                    "cohort_id": session.cohort_id,
                    "status": row.status,
                    "note": row.note,
                    "source": AttendanceSource.ROSTER,
                    "recorded_by_id": user.id,
                    "recorded_at": now,
                    "version": 1,
                }
            )
            continue
        merged = _merge(row, cur)
        if merged is None:
            result.conflicts.append(
                Conflict(
                    enrolment_id=row.enrolment_id,
                    person_name=_person_name(cur.first_name, cur.last_name),
                    your_status=row.status or row.loaded_status,  # type: ignore[arg-type]
                    your_note=row.note,
                    their_status=AttendanceStatus(cur.status),
                    their_note=cur.note,
                    by=_user_name(cur.by_display, cur.by_email, cur.by_first, cur.by_last),
                    at=cur.recorded_at,
                )
            )
            continue
        status, note = merged
        if (status, note) == (cur.status, cur.note):
            continue  # already so
        updates.append(
            {
                "b_id": cur.id,
                "b_status": status.value,
                "b_note": note,
                "b_source": AttendanceSource.ROSTER.value,
                "b_version": cur.version + 1,
                "b_by": user.id,
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
        corrections.append(correction)
    if corrections:
        _audit_corrections(user, session, corrections, ip)
    if inserts:
        db.session.execute(_record_table.insert(), inserts)  # Core: no ORM bulk overhead
    if updates:
        db.session.execute(_UPDATE_RECORD, updates)
    db.session.flush()
    result.recorded = len(inserts)
    result.corrected = len(updates)
    return result


# --------------------------------------------------------------------------- self check-in


@dataclass(frozen=True)
class CheckInTarget:
    session: Session
    enrolment: Enrolment
    record: AttendanceRecord | None  # what is recorded for them already, if anything

    @property
    def already_in(self) -> bool:
        return self.record is not None and self.record.status in ATTENDED


@dataclass(frozen=True)
class CheckInResult:
    status: AttendanceStatus
    already: bool  # they had already checked in (nothing changed)
    at: datetime


def checkin_status(session: Session, at: datetime) -> AttendanceStatus:
    """Present up to the start plus the cohort's grace minutes, late after."""
    grace = timedelta(minutes=session.cohort.late_grace_minutes or 0)
    return AttendanceStatus.LATE if at > session.starts_at + grace else AttendanceStatus.PRESENT


def checkin_target(
    user: Any,
    session_id: int,
    token: str,
    *,
    ticket: str | None = None,
    now: datetime | None = None,
) -> CheckInTarget:
    """Check everything about a self check-in without writing; DomainError says what is wrong.

    The participant is always ``user``'s own person: nobody can check in someone else.
    ``ticket`` (from the confirmation page) stands in for a token that rotated meanwhile.
    """
    now = now or utcnow()
    session = _load_session(session_id)
    if not tokens.ticket_valid(ticket, session.id, user.id):
        check = tokens.check_token(session.id, token, now)
        if check is tokens.TokenCheck.EXPIRED:
            raise DomainError(
                _(
                    "This check-in code has expired. Scan the code on the screen again: "
                    "it changes every 30 seconds."
                )
            )
        if check is tokens.TokenCheck.INVALID:
            raise DomainError(
                _(
                    "This check-in code is not valid for this session. "
                    "Scan the code on the screen again."
                )
            )
    tz = session.cohort.timezone
    if session.status == SessionStatus.CANCELLED:
        raise DomainError(_("This session was cancelled: there is nothing to check in to."))
    if now > session.ends_at:
        raise DomainError(
            _(
                "This session is over (it ended at %(time)s): check-in is closed. "
                "Ask your trainer to record your attendance.",
                time=fmt_time(session.ends_at, tz),
            )
        )
    if now < session.starts_at - CHECKIN_OPENS_BEFORE:
        raise DomainError(
            _(
                "Check-in for this session opens at %(time)s.",
                time=fmt_datetime(session.starts_at - CHECKIN_OPENS_BEFORE, tz),
            )
        )
    enrolment = None
    if user.person_id is not None:
        enrolment = db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.cohort_id == session.cohort_id)
            .where(Enrolment.person_id == user.person_id)
            .where(Enrolment.status.in_(ACTIVE_ENROLMENT))
        ).first()
    if enrolment is None:
        raise DomainError(
            _(
                "You are not enrolled in this cohort, so you cannot check in to this session. "
                "If you think you should be, ask the coordinator."
            )
        )
    record = db.session.scalars(
        sa.select(AttendanceRecord).where(
            AttendanceRecord.session_id == session.id,
            AttendanceRecord.enrolment_id == enrolment.id,
        )
    ).first()
    return CheckInTarget(session, enrolment, record)


def check_in(
    user: Any,
    session_id: int,
    token: str,
    *,
    ticket: str | None = None,
    now: datetime | None = None,
    ip: str | None = None,
) -> CheckInResult:
    """Mark the signed-in participant present (or late after the grace minutes)."""
    now = now or utcnow()
    _lock_session(session_id)
    target = checkin_target(user, session_id, token, ticket=ticket, now=now)
    session, enrolment, record = target.session, target.enrolment, target.record
    if record is not None and target.already_in:
        return CheckInResult(record.status, already=True, at=record.recorded_at)
    status = checkin_status(session, now)
    if record is None:
        db.session.add(
            AttendanceRecord(
                session_id=session.id,
                enrolment_id=enrolment.id,
                cohort_id=session.cohort_id,
                status=status,
                source=AttendanceSource.CHECK_IN,
                recorded_by_id=user.id,
                recorded_at=now,
            )
        )
    else:  # recorded absent or excused, then they came after all
        audit.record(
            "attendance.correct",
            actor=user,
            obj=record,
            programme_id=session.cohort.programme_id,
            changes={
                "session_id": session.id,
                "enrolment_id": enrolment.id,
                "status": [str(record.status), str(status)],
                "source": "check_in",
            },
            summary=f"self check-in: {record.status} -> {status}",
            ip=ip,
        )
        record.status = status
        record.source = AttendanceSource.CHECK_IN
        record.recorded_by_id = user.id
        record.recorded_at = now
        record.version += 1
    db.session.flush()
    return CheckInResult(status, already=False, at=now)


@dataclass(frozen=True)
class MyCheckIn:
    session: Session
    record: AttendanceRecord | None


def my_checkin(user: Any, session_id: int) -> MyCheckIn:
    """The signed-in user's own record for a session (after checking in).

    Only for someone recorded in the session, or who may record it (its trainers, its
    programme's coordinators): to anyone else the session does not exist (NotFound), so its
    title, cohort and time are not shown to other cohorts or programmes.
    """
    session = _load_session(session_id)
    record = None
    if user.person_id is not None:
        record = db.session.scalars(
            sa.select(AttendanceRecord)
            .join(Enrolment, Enrolment.id == AttendanceRecord.enrolment_id)
            .where(AttendanceRecord.session_id == session.id)
            .where(Enrolment.person_id == user.person_id)
        ).first()
    if record is None and not can_record(user, session):
        raise NotFound(_("There is no check-in of yours for this session."))
    return MyCheckIn(session, record)


def checked_in_count(session_id: int) -> int:
    """How many participants are recorded present or late for the session (the QR screen)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(AttendanceRecord.id)).where(
                AttendanceRecord.session_id == session_id, AttendanceRecord.status.in_(ATTENDED)
            )
        )
        or 0
    )


def enrolled_count(cohort_id: int) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Enrolment.id)).where(
                Enrolment.cohort_id == cohort_id, Enrolment.status.in_(ACTIVE_ENROLMENT)
            )
        )
        or 0
    )


# --------------------------------------------------------------------------- rates and hours

_ZERO_HOURS = Decimal("0.00")


@dataclass(frozen=True)
class Summary:
    """One participant's attendance over the sessions counted (see the module docstring)."""

    held: int = 0  # sessions held (not cancelled, attendance recorded)
    present: int = 0
    late: int = 0
    excused: int = 0
    absent: int = 0  # recorded absent
    hours: Decimal = _ZERO_HOURS

    @property
    def attended(self) -> int:
        return self.present + self.late

    @property
    def counted(self) -> int:
        """The denominator: sessions held, less those the participant was excused from."""
        return self.held - self.excused

    @property
    def not_recorded(self) -> int:
        return self.held - self.attended - self.excused - self.absent

    @property
    def rate(self) -> Decimal | None:
        """Attendance rate in [0, 1]; None while no session counts."""
        if self.counted <= 0:
            return None
        return Decimal(self.attended) / Decimal(self.counted)

    @property
    def rate_pct(self) -> int | None:
        """The rate as a whole percentage, rounded down (so 79.9% never shows as 80%)."""
        if self.counted <= 0:
            return None
        return self.attended * 100 // self.counted

    def below(self, min_pct: int | None) -> bool:
        """Whether the rate is below ``min_pct`` percent (False while nothing counts)."""
        if min_pct is None or self.counted <= 0:
            return False
        return self.attended * 100 < min_pct * self.counted


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions of a cohort count: one module, and/or a period (UTC bounds)."""

    module_id: int | None = None
    starts_from: datetime | None = None  # inclusive
    starts_before: datetime | None = None  # exclusive

    def apply(self, stmt: Any) -> Any:
        if self.module_id is not None:
            stmt = stmt.where(Session.module_id == self.module_id)
        if self.starts_from is not None:
            stmt = stmt.where(Session.starts_at >= self.starts_from)
        if self.starts_before is not None:
            stmt = stmt.where(Session.starts_at < self.starts_before)
        return stmt

    @classmethod
    def from_local(
        cls, tz: str, module_id: int | None, first: date | None, last: date | None
    ) -> SessionFilter:
        """A filter from dates in the cohort's zone (``last`` included)."""
        zone = ZoneInfo(tz)

        def start_of(day: date) -> datetime:
            return datetime.combine(day, time.min, tzinfo=zone)

        return cls(
            module_id=module_id,
            starts_from=start_of(first) if first else None,
            starts_before=start_of(last + timedelta(days=1)) if last else None,
        )


def session_hours(starts_at: datetime, ends_at: datetime) -> Decimal:
    seconds = int((ends_at - starts_at).total_seconds())
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))


def attendance_summary(
    cohort_id: int,
    enrolment_ids: Iterable[int] | None = None,
    *,
    sessions: SessionFilter | None = None,
) -> dict[int, Summary]:
    """Attendance rate and hours of each enrolment of a cohort (the one computation).

    ``enrolment_ids`` defaults to the cohort's active enrolments; ``sessions`` limits the
    sessions counted (a module, a period). Three queries at most, whatever the sizes.
    """
    held_flag = (
        sa.select(AttendanceRecord.id).where(AttendanceRecord.session_id == Session.id).exists()
    )
    stmt = sa.select(Session.id, Session.starts_at, Session.ends_at).where(
        Session.cohort_id == cohort_id,
        Session.status == SessionStatus.SCHEDULED,
        held_flag,
    )
    held = {
        sid: session_hours(start, end)
        for sid, start, end in db.session.execute((sessions or SessionFilter()).apply(stmt))
    }
    if enrolment_ids is None:
        ids = list(
            db.session.scalars(
                sa.select(Enrolment.id).where(
                    Enrolment.cohort_id == cohort_id, Enrolment.status.in_(ACTIVE_ENROLMENT)
                )
            )
        )
    else:
        ids = list(enrolment_ids)
    if not ids:
        return {}
    records: list[Any] = []
    if held:
        records = list(
            db.session.execute(
                sa.select(
                    AttendanceRecord.enrolment_id,
                    AttendanceRecord.session_id,
                    AttendanceRecord.status,
                ).where(
                    AttendanceRecord.cohort_id == cohort_id,
                    AttendanceRecord.enrolment_id.in_(ids),
                    AttendanceRecord.session_id.in_(list(held)),
                )
            )
        )
    return summarise(held, ids, records)


# A record's status -> its counter (present, late, excused, absent). The members are strings:
# the stored strings find them too.
_SLOTS = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.EXCUSED,
    AttendanceStatus.ABSENT,
)
_SLOT: dict[str, int] = {st: i for i, st in enumerate(_SLOTS)}
_ATTENDED_SLOTS = 2  # present and late come first


def summarise(
    held: dict[int, Decimal],
    enrolment_ids: Iterable[int],
    records: Iterable[tuple[int, int, AttendanceStatus | str]],
) -> dict[int, Summary]:
    """The rule itself, without SQL: ``held`` maps the sessions held (not cancelled, attendance
    taken) to their hours; ``records`` are (enrolment id, session id, status), the status as a
    member or its stored string. Records of sessions not in ``held`` are ignored. Used by
    ``attendance_summary``, the matrix and pages that load several cohorts at once (the
    participant's home)."""
    ids = list(enrolment_ids)
    counts: dict[int, list[int]] = {eid: [0, 0, 0, 0] for eid in ids}
    hours: dict[int, Decimal] = dict.fromkeys(ids, _ZERO_HOURS)
    for eid, sid, status in records:
        session_hours_ = held.get(sid)
        row = counts.get(eid)
        if session_hours_ is None or row is None:
            continue
        slot = _SLOT[status]
        row[slot] += 1
        if slot < _ATTENDED_SLOTS:
            hours[eid] += session_hours_
    n_held = len(held)
    return {
        eid: Summary(
            held=n_held,
            present=counts[eid][0],
            late=counts[eid][1],
            excused=counts[eid][2],
            absent=counts[eid][3],
            hours=hours[eid],
        )
        for eid in ids
    }


# --------------------------------------------------------------------------- matrix


@dataclass
class MatrixColumn:
    session: Session
    recorded: int = 0
    attended: int = 0

    @property
    def held(self) -> bool:
        return self.recorded > 0


@dataclass
class MatrixRow:
    enrolment: Enrolment  # with .person loaded
    summary: Summary
    below: bool
    cells: list[AttendanceStatus | None]


@dataclass
class Matrix:
    cohort: Cohort
    columns: list[MatrixColumn]
    rows: list[MatrixRow]
    filter: SessionFilter

    @property
    def enrolled(self) -> int:
        return len(self.rows)

    @property
    def below_count(self) -> int:
        return sum(1 for r in self.rows if r.below)

    def turnout_pct(self, column: MatrixColumn) -> int | None:
        if not column.held or not self.rows:
            return None
        return column.attended * 100 // len(self.rows)


def cohort_for_matrix(user: Any, cohort_id: int) -> Cohort:
    cohort = db.session.scalars(
        sa.select(Cohort).where(Cohort.id == cohort_id).options(joinedload(Cohort.programme))
    ).first()
    if cohort is None:
        raise NotFound(_("There is no such cohort."))
    if not can_view_cohort(user, cohort):
        raise Forbidden(_("Only coordinators and the cohort's trainers see its attendance."))
    return cohort


def cohort_modules(cohort: Cohort) -> list[Module]:
    """The modules of the cohort's programme (the matrix's module filter)."""
    return list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.programme_id == cohort.programme_id)
            .order_by(Module.position, Module.code)
        )
    )


def attendance_matrix(cohort: Cohort, sessions: SessionFilter | None = None) -> Matrix:
    """Participants by sessions with statuses, rates, hours and turnout (bounded queries).

    ``cohort`` comes from ``cohort_for_matrix``, which checks who may see it. The records
    are loaded once, as plain (enrolment, session, status) tuples: the cells, the turnout
    and the summaries (``summarise``, the one rule) all come from that one list.
    """
    cohort_id = cohort.id
    flt = sessions or SessionFilter()
    session_list = list(
        db.session.scalars(
            flt.apply(
                sa.select(Session)
                .where(Session.cohort_id == cohort_id, Session.status == SessionStatus.SCHEDULED)
                .options(joinedload(Session.module))
                .order_by(Session.starts_at, Session.id)
            )
        )
    )
    enrolments = list(
        db.session.scalars(
            sa.select(Enrolment)
            .join(Enrolment.person)
            .options(contains_eager(Enrolment.person))
            .where(Enrolment.cohort_id == cohort_id, Enrolment.status.in_(ACTIVE_ENROLMENT))
            .order_by(Person.last_name, Person.first_name, Enrolment.id)
        )
    )
    columns = [MatrixColumn(s) for s in session_list]
    # One row per enrolment, its records packed as "session id:status,...": a 120 x 60
    # matrix is 120 short rows to fetch instead of 7,200 (most of the page's time).
    position = {str(s.id): i for i, s in enumerate(session_list)}
    cells: dict[int, list[AttendanceStatus | None]] = {
        e.id: [None] * len(session_list) for e in enrolments
    }
    records: list[tuple[int, int, str]] = []  # (enrolment, column, status) of those shown
    if session_list:
        statuses = {s.value: s for s in AttendanceStatus}
        attended = frozenset(s.value for s in ATTENDED)
        recorded = [0] * len(columns)
        turnout = [0] * len(columns)
        packed = sa.func.aggregate_strings(
            sa.cast(AttendanceRecord.session_id, sa.String)
            + ":"
            + sa.type_coerce(AttendanceRecord.status, sa.String),
            ",",
        )
        for eid, items in db.session.execute(
            sa.select(AttendanceRecord.enrolment_id, packed)
            .where(
                AttendanceRecord.cohort_id == cohort_id,
                AttendanceRecord.session_id.in_([s.id for s in session_list]),
            )
            .group_by(AttendanceRecord.enrolment_id)
        ):
            row = cells.get(eid)  # None: withdrawn since (the sessions still count as held)
            for item in items.split(","):
                sid, _sep, raw = item.partition(":")
                i = position[sid]
                recorded[i] += 1
                if row is not None:
                    row[i] = statuses[raw]
                    records.append((eid, i, raw))
                    if raw in attended:
                        turnout[i] += 1
        for column, n, a in zip(columns, recorded, turnout, strict=True):
            column.recorded, column.attended = n, a
    held = {
        i: session_hours(c.session.starts_at, c.session.ends_at)
        for i, c in enumerate(columns)
        if c.held
    }
    summaries = summarise(held, cells, records)  # held and records by column
    min_pct = cohort.min_attendance_pct
    rows = [
        MatrixRow(
            enrolment=e,
            summary=summaries[e.id],
            below=summaries[e.id].below(min_pct),
            cells=cells[e.id],
        )
        for e in enrolments
    ]
    return Matrix(cohort, columns, rows, flt)


# --------------------------------------------------------------------------- exports

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Neutralise text a spreadsheet would run as a formula (prefix it with ')."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def matrix_table(matrix: Matrix) -> list[list[Any]]:
    """The matrix as rows of cells (header first, turnout last), for CSV and XLSX."""
    tz = matrix.cohort.timezone
    header: list[Any] = [
        _("Last name"),
        _("First name"),
        _("E-mail"),
        _("Country"),
        _("Organisation"),
    ]
    for col in matrix.columns:
        s = col.session
        title = s.display_title or (s.module.code if s.module else "")
        header.append(f"{fmt_datetime(s.starts_at, tz)} {title}".strip())
    header += [
        _("Sessions held"),
        _("Attended"),
        _("Excused"),
        _("Attendance rate (%)"),
        _("Hours"),
        _("Below threshold"),
    ]
    labels = {s: str(s.label) for s in AttendanceStatus}
    table: list[list[Any]] = [header]
    for row in matrix.rows:
        p = row.enrolment.person
        summary = row.summary
        table.append(
            [
                p.last_name,
                p.first_name,
                p.email or "",
                p.country or "",
                p.organisation or "",
                *[labels[c] if c else "" for c in row.cells],
                summary.held,
                summary.attended,
                summary.excused,
                summary.rate_pct if summary.rate_pct is not None else "",
                summary.hours,
                _("yes") if row.below else _("no"),
            ]
        )
    turnout: list[Any] = [_("Turnout (%)"), "", "", "", ""]
    turnout += [matrix.turnout_pct(c) if c.held else "" for c in matrix.columns]
    table.append(turnout + [""] * 6)
    return [[safe_cell(v) for v in line] for line in table]


def export_csv(matrix: Matrix) -> bytes:
    """UTF-8 CSV with a byte-order mark, so spreadsheet programs read any script."""
    out = io.StringIO()
    writer = csv.writer(out)
    for line in matrix_table(matrix):
        writer.writerow(["" if v is None else v for v in line])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_xlsx(matrix: Matrix) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Attendance")[:31]
    for line in matrix_table(matrix):
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in line])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


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
