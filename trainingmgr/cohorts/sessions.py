"""Adding, editing, moving, cancelling and deleting a cohort's sessions.

Functions raise ``DomainError`` for bad input, record audit events and never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from trainingmgr.accounts.models import User
from trainingmgr.attendance.models import AttendanceRecord
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import (
    Cohort,
    Session,
    SessionStatus,
)
from trainingmgr.cohorts.schedule import (
    Details,
    ProposedSession,
    SeriesInput,
    SessionInput,
    confirm_schedule,
    series_days,
    session_times,
    session_values,
    validate_details,
)
from trainingmgr.cohorts.services import ensure_not_archived
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.mail import notify
from trainingmgr.mail.services import Rendered
from trainingmgr.people.models import Person


def _session_from(cohort: Cohort, details: Details, starts: datetime, ends: datetime) -> Session:
    session = Session(
        cohort_id=cohort.id,
        module_id=details.module.id if details.module else None,
        title=details.title,
        starts_at=starts,
        ends_at=ends,
        mode=details.mode,
        location=details.location,
        online_url=details.online_url,
        status=SessionStatus.SCHEDULED,
    )
    session.trainers = list(details.trainers)
    db.session.add(session)
    return session


def _record(
    action: str,
    session: Session,
    cohort: Cohort,
    summary: str,
    actor: User | None,
    before: dict[str, Any] | None = None,
) -> None:
    """Audit ``action`` on ``session`` of ``cohort``: all the session's values or, given its
    values ``before`` an edit, those that changed (nothing is recorded if none did)."""
    details: dict[str, Any] = {"actor": actor, "obj": session, "programme_id": cohort.programme_id}
    values = session_values(session)
    if before is None:
        changes = {k: audit.jsonable(v) for k, v in values.items()}
        audit.record(action, changes=changes, summary=summary, **details)
    else:
        audit.record_changes(action, before, values, summary=summary, **details)


def add_session(
    cohort: Cohort, data: SessionInput, *, actor: User | None, acknowledged: str | None = None
) -> Session:
    """Add one session. Raises ``NeedsConfirmation`` while its warnings are unconfirmed."""
    ensure_not_archived(cohort)
    if data.day is None:
        raise DomainError(_("Enter the date of the session."), "day")
    starts, ends = session_times(cohort, data.day, data.start_time, data.end_time)
    details = validate_details(cohort, data)
    confirm_schedule(cohort, [ProposedSession(starts, ends, details.trainer_ids)], acknowledged)
    session = _session_from(cohort, details, starts, ends)
    db.session.flush()
    _record("session.create", session, cohort, f"Added a session to {cohort.name}", actor)
    return session


def propose_series(cohort: Cohort, data: SeriesInput) -> list[ProposedSession]:
    """The sessions a series would create, each day converted to UTC on its own."""
    days = series_days(data)
    trainer_ids = tuple(sorted(set(data.trainer_ids or [])))
    proposed = []
    for day in days:
        starts, ends = session_times(cohort, day, data.start_time, data.end_time)
        proposed.append(ProposedSession(starts, ends, trainer_ids))
    return proposed


def add_series(
    cohort: Cohort, data: SeriesInput, *, actor: User | None, acknowledged: str | None = None
) -> list[Session]:
    """Add a series of sessions in one step (all or none)."""
    ensure_not_archived(cohort)
    proposed = propose_series(cohort, data)
    details = validate_details(cohort, data)
    confirm_schedule(cohort, proposed, acknowledged)
    sessions = [_session_from(cohort, details, p.starts_at, p.ends_at) for p in proposed]
    db.session.flush()
    audit.record(
        "session.series",
        actor=actor,
        object_type="cohorts",
        object_id=cohort.id,
        programme_id=cohort.programme_id,
        changes={
            "session_ids": [s.id for s in sessions],
            "start_date": audit.jsonable(data.start_date),
            "end_date": audit.jsonable(data.end_date),
            "weekdays": sorted(set(data.weekdays)),
            "interval_weeks": data.interval_weeks,
            "start_time": audit.jsonable(data.start_time),
            "end_time": audit.jsonable(data.end_time),
        },
        summary=f"Added a series of {len(sessions)} sessions to {cohort.name}",
    )
    return sessions


def session_input(session: Session) -> SessionInput:
    """A session's current values in its cohort's local time, as the edit form shows them."""
    tz = ZoneInfo(session.cohort.timezone)
    start = session.starts_at.astimezone(tz)
    end = session.ends_at.astimezone(tz)
    return SessionInput(
        module_id=session.module_id,
        title=session.title,
        mode=session.mode,
        location=session.location,
        online_url=session.online_url,
        trainer_ids=[p.id for p in session.trainers],
        day=start.date(),
        start_time=start.time().replace(tzinfo=None, fold=0),
        end_time=end.time().replace(tzinfo=None, fold=0),
    )


@dataclass(frozen=True)
class ChangeNotice:
    """Who would be told about a change of a session, and the message (as the first of them
    would get it; None when nobody would be told)."""

    people: list[Person]
    preview: Rendered | None

    @property
    def count(self) -> int:
        return len(self.people)


def change_notice(
    session: Session, change: str, *, starts: datetime | None = None, ends: datetime | None = None
) -> ChangeNotice:
    """Who would be told if ``session`` were moved to ``starts``-``ends`` (``change`` "moved")
    or cancelled, and a preview of the message. Nothing is written: the new times are shown
    on the session for the preview only, then forgotten."""
    old_starts, old_ends = session.starts_at, session.ends_at
    with db.session.no_autoflush:
        if starts is not None and ends is not None:
            session.starts_at, session.ends_at = starts, ends
        try:
            recipients = notify.session_change_recipients(session, old_ends)
            preview = (
                notify.session_change_preview(session, change, recipients[0], old_starts, old_ends)
                if recipients
                else None
            )
        finally:
            db.session.expire(session, ["starts_at", "ends_at"])
    return ChangeNotice([r.person for r in recipients], preview)


def proposed_times(session: Session, data: SessionInput) -> tuple[datetime, datetime] | None:
    """The UTC times the edit form asks for, when they differ from the session's (None: not
    moved, or not valid times; saving says why)."""
    if data.day is None:
        return None
    try:
        starts, ends = session_times(session.cohort, data.day, data.start_time, data.end_time)
    except DomainError:
        return None
    if (starts, ends) == (session.starts_at, session.ends_at):
        return None
    return starts, ends


def attendance_count(session: Session) -> int:
    """How many attendance records the session has."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AttendanceRecord)
            .where(AttendanceRecord.session_id == session.id)
        )
        or 0
    )


@dataclass(frozen=True)
class SessionSaved:
    session: Session
    told: int  # people told by e-mail about a move (0: not moved, or not told)


def update_session(
    session: Session,
    data: SessionInput,
    *,
    actor: User | None,
    acknowledged: str | None = None,
    tell: bool = True,
) -> SessionSaved:
    """Edit or move a session. Raises ``NeedsConfirmation`` while warnings are unconfirmed.
    A move of a session to come is e-mailed to its people unless ``tell`` is False."""
    cohort = session.cohort
    ensure_not_archived(cohort)
    if data.day is None:
        raise DomainError(_("Enter the date of the session."), "day")
    starts, ends = session_times(cohort, data.day, data.start_time, data.end_time)
    details = validate_details(cohort, data, keep_module_id=session.module_id)
    confirm_schedule(
        cohort,
        [ProposedSession(starts, ends, details.trainer_ids)],
        acknowledged,
        exclude_session_id=session.id,
    )
    before = session_values(session)
    session.module_id = details.module.id if details.module else None
    session.title = details.title
    session.starts_at = starts
    session.ends_at = ends
    session.mode = details.mode
    session.location = details.location
    session.online_url = details.online_url
    session.trainers = list(details.trainers)
    db.session.flush()
    _record("session.update", session, cohort, f"Edited a session of {cohort.name}", actor, before)
    moved = (before["starts_at"], before["ends_at"]) != (session.starts_at, session.ends_at)
    told = 0
    if tell and moved and session.scheduled:
        told = len(
            notify.session_changed(session, notify.MOVED, before["starts_at"], before["ends_at"])
        )
    return SessionSaved(session, told)


def set_session_cancelled(
    session: Session,
    cancelled: bool,
    *,
    actor: User | None,
    tell: bool = True,
    records_confirmed: bool = True,
) -> int:
    """Cancel a session (it is kept and shown struck through, with any attendance recorded)
    or bring it back; its people are told by e-mail unless ``tell`` is False. Returns how
    many were told. Cancelling a session with attendance recorded is refused unless
    ``records_confirmed``."""
    ensure_not_archived(session.cohort)
    target = SessionStatus.CANCELLED if cancelled else SessionStatus.SCHEDULED
    if session.status == target:
        return 0
    if cancelled and not records_confirmed and (records := attendance_count(session)):
        raise DomainError(
            ngettext(
                "Attendance is recorded for this session (%(num)d record): confirm that you "
                "want to cancel it. The record is kept.",
                "Attendance is recorded for this session (%(num)d records): confirm that you "
                "want to cancel it. The records are kept.",
                records,
            ),
            "records_confirmed",
        )
    before = session.status
    session.status = target
    db.session.flush()
    audit.record(
        "session.cancel" if cancelled else "session.uncancel",
        actor=actor,
        obj=session,
        programme_id=session.cohort.programme_id,
        changes={"status": [before.value, target.value]},
        summary=f"{'Cancelled' if cancelled else 'Restored'} a session of {session.cohort.name}",
    )
    if not tell:
        return 0
    return len(notify.session_changed(session, notify.CANCELLED if cancelled else notify.RESTORED))


def delete_session(session: Session, *, actor: User | None) -> None:
    """Delete a session with no attendance recorded; refuse otherwise (cancel instead)."""
    ensure_not_archived(session.cohort)
    records = attendance_count(session)
    if records:
        raise DomainError(
            _(
                "This session cannot be deleted: %(n)d attendance records refer to it. "
                "Cancel it instead: it stays in the schedule, struck through.",
                n=records,
            )
        )
    cohort = session.cohort
    _record("session.delete", session, cohort, f"Deleted a session of {cohort.name}", actor)
    db.session.delete(session)
    db.session.flush()


def session_or_404(cohort_id: int, session_id: int) -> Session:
    """The session a URL names, if it belongs to the cohort the URL names; else a 404."""
    return db.one_or_404(
        sa.select(Session).where(Session.id == session_id, Session.cohort_id == cohort_id)
    )
