"""Self check-in with the rotating QR code: what a participant may check in to, recording it
(present, or late after the cohort's grace minutes), and the counts on the QR screen.
Functions here never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict, Unpack

import sqlalchemy as sa
from flask_babel import gettext as _

from trainingmgr.accounts.models import User
from trainingmgr.attendance import checkin as tokens
from trainingmgr.attendance.access import can_record, load_session
from trainingmgr.attendance.models import (
    ATTENDED,
    AttendanceRecord,
    AttendanceSource,
    AttendanceStatus,
)
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import Enrolment, Session
from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.core.timefmt import fmt_datetime, fmt_time
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db

# Participants may check in from this long before a session starts until it ends.
CHECKIN_OPENS_BEFORE = timedelta(minutes=30)


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


def _check_token(session_id: int, token: str, now: datetime) -> None:
    check = tokens.check_token(session_id, token, now)
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


def closed_reason(session: Session, now: datetime) -> str | None:
    """Why nobody can check in to ``session`` any more (cancelled, or over), else None: the
    check-in screen shows it instead of a code."""
    if not session.scheduled:
        return _("This session was cancelled: there is nothing to check in to.")
    if now > session.ends_at:
        return _(
            "This session is over (it ended at %(time)s): check-in is closed. "
            "Ask your trainer to record your attendance.",
            time=fmt_time(session.ends_at, session.cohort.timezone),
        )
    return None


def _check_open(session: Session, now: datetime) -> None:
    """DomainError unless check-in to ``session`` is open at ``now``."""
    tz = session.cohort.timezone
    closed = closed_reason(session, now)
    if closed is not None:
        raise DomainError(closed)
    if now < session.starts_at - CHECKIN_OPENS_BEFORE:
        raise DomainError(
            _(
                "Check-in for this session opens at %(time)s.",
                time=fmt_datetime(session.starts_at - CHECKIN_OPENS_BEFORE, tz),
            )
        )


def _own_enrolment(session: Session, *, actor: User) -> Enrolment:
    """``actor``'s own active enrolment in the session's cohort (DomainError if none)."""
    enrolment = None
    if actor.person_id is not None:
        enrolment = db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.cohort_id == session.cohort_id)
            .where(Enrolment.person_id == actor.person_id)
            .where(Enrolment.active)
        ).first()
    if enrolment is None:
        raise DomainError(
            _(
                "You are not enrolled in this cohort, so you cannot check in to this session. "
                "If you think you should be, ask the coordinator."
            )
        )
    return enrolment


def check_scan(session_id: int, token: str, now: datetime | None = None) -> str:
    """A code scanned by someone not signed in yet: DomainError if it is expired or not
    valid, or check-in is not open (cancelled, over: said before the sign-in, not after),
    else the scan ticket that lets them check in after signing in."""
    now = now or utcnow()
    session = load_session(session_id)
    _check_token(session.id, token, now)
    _check_open(session, now)
    return tokens.scan_ticket(session_id)


class ScanProof(TypedDict, total=False):
    """What stands in for the code in a check-in, beside the code itself.

    ``ticket`` (from the confirmation page) stands in for a token that rotated meanwhile, and
    ``scanned`` (a scan ticket, from before signing in) for one that expired during sign-in;
    ``now``: the moment to judge by (tests), else the current time.
    """

    ticket: str | None
    scanned: str | None
    now: datetime | None


def checkin_target(
    session_id: int, token: str, *, actor: User, lock: bool = False, **proof: Unpack[ScanProof]
) -> CheckInTarget:
    """Check everything about a self check-in without writing; DomainError says what is wrong.

    The participant is always ``actor``'s own person: nobody can check in someone else.
    After a scan before signing in, check-in is judged open at the moment of the scan.
    ``lock``: lock the session for writing its attendance (``load_session``).
    """
    now = proof.get("now") or utcnow()
    session = load_session(session_id, lock=lock)
    scan = tokens.scanned_at(proof.get("scanned"), session.id)
    if scan is None and not tokens.ticket_valid(proof.get("ticket"), session.id, actor.id):
        _check_token(session.id, token, now)
    # Open at the moment of the scan: a sign-in that ends after the session still counts.
    _check_open(session, min(now, scan) if scan is not None else now)
    enrolment = _own_enrolment(session, actor=actor)
    record = db.session.scalars(
        sa.select(AttendanceRecord).where(
            AttendanceRecord.session_id == session.id,
            AttendanceRecord.enrolment_id == enrolment.id,
        )
    ).first()
    return CheckInTarget(session, enrolment, record)


def check_in(
    session_id: int,
    token: str,
    *,
    actor: User,
    ip: str | None = None,
    **proof: Unpack[ScanProof],
) -> CheckInResult:
    """Mark the signed-in participant present (or late after the grace minutes). Someone
    who scanned the code before signing in is judged on time or late by the scan."""
    now = proof["now"] = proof.get("now") or utcnow()  # one moment for the check and the record
    target = checkin_target(session_id, token, actor=actor, lock=True, **proof)
    session, enrolment, record = target.session, target.enrolment, target.record
    if record is not None and target.already_in:
        return CheckInResult(record.status, already=True, at=record.recorded_at)
    status = checkin_status(
        session, min(now, tokens.scanned_at(proof.get("scanned"), session_id) or now)
    )
    if record is None:
        db.session.add(
            AttendanceRecord(
                session_id=session.id,
                enrolment_id=enrolment.id,
                cohort_id=session.cohort_id,
                status=status,
                source=AttendanceSource.CHECK_IN,
                recorded_by_id=actor.id,
                recorded_at=now,
            )
        )
    else:  # recorded absent or excused, then they came after all
        audit.record(
            "attendance.correct",
            actor=actor,
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
        record.recorded_by_id = actor.id
        record.recorded_at = now
        record.version += 1
    db.session.flush()
    return CheckInResult(status, already=False, at=now)


@dataclass(frozen=True)
class MyCheckIn:
    session: Session
    record: AttendanceRecord | None


def my_checkin(session_id: int, *, actor: User) -> MyCheckIn:
    """The signed-in user's own record for a session (after checking in).

    Only for someone recorded in the session, or who may record it (its trainers, its
    programme's coordinators): to anyone else the session does not exist (NotFound), so its
    title, cohort and time are not shown to other cohorts or programmes.
    """
    session = load_session(session_id)
    record = None
    if actor.person_id is not None:
        record = db.session.scalars(
            sa.select(AttendanceRecord)
            .join(Enrolment, Enrolment.id == AttendanceRecord.enrolment_id)
            .where(AttendanceRecord.session_id == session.id)
            .where(Enrolment.person_id == actor.person_id)
        ).first()
    if record is None and not can_record(session, actor=actor):
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


# --------------------------------------------------------------------------- rates and hours
