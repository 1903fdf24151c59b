"""Adding, editing, moving, cancelling and deleting a cohort's sessions.

Functions raise ``DomainError`` for bad input, record audit events and never commit."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _

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
    audit.record(
        "session.create",
        actor=actor,
        obj=session,
        programme_id=cohort.programme_id,
        changes={k: audit.jsonable(v) for k, v in session_values(session).items()},
        summary=f"Added a session to {cohort.name}",
    )
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


def update_session(
    session: Session, data: SessionInput, *, actor: User | None, acknowledged: str | None = None
) -> Session:
    """Edit or move a session. Raises ``NeedsConfirmation`` while warnings are unconfirmed."""
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
    audit.record_changes(
        "session.update",
        before,
        session_values(session),
        actor=actor,
        obj=session,
        programme_id=cohort.programme_id,
        summary=f"Edited a session of {cohort.name}",
    )
    moved = (before["starts_at"], before["ends_at"]) != (session.starts_at, session.ends_at)
    if moved and session.status == SessionStatus.SCHEDULED:
        notify.session_changed(session, notify.MOVED, before["starts_at"], before["ends_at"])
    return session


def set_session_cancelled(session: Session, cancelled: bool, *, actor: User | None) -> None:
    """Cancel a session (it is kept and shown struck through) or bring it back."""
    ensure_not_archived(session.cohort)
    target = SessionStatus.CANCELLED if cancelled else SessionStatus.SCHEDULED
    if session.status == target:
        return
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
    notify.session_changed(session, notify.CANCELLED if cancelled else notify.RESTORED)


def delete_session(session: Session, *, actor: User | None) -> None:
    """Delete a session with no attendance recorded; refuse otherwise (cancel instead)."""
    ensure_not_archived(session.cohort)
    records = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AttendanceRecord)
        .where(AttendanceRecord.session_id == session.id)
    )
    if records:
        raise DomainError(
            _(
                "This session cannot be deleted: %(n)d attendance records refer to it. "
                "Cancel it instead: it stays in the schedule, struck through.",
                n=records,
            )
        )
    audit.record(
        "session.delete",
        actor=actor,
        obj=session,
        programme_id=session.cohort.programme_id,
        changes={k: audit.jsonable(v) for k, v in session_values(session).items()},
        summary=f"Deleted a session of {session.cohort.name}",
    )
    db.session.delete(session)
    db.session.flush()


def session_or_404(cohort_id: int, session_id: int) -> Session:
    """The session a URL names, if it belongs to the cohort the URL names; else a 404."""
    return db.one_or_404(
        sa.select(Session).where(Session.id == session_id, Session.cohort_id == cohort_id)
    )
