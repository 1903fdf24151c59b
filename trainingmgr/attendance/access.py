"""Who may see and record attendance: the one rule for recording a session (administrators,
the programme's coordinators, the session's trainers), who sees a cohort's matrix, and when a
session's roster can be recorded. Functions here never commit."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import g, has_request_context
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from trainingmgr.accounts.models import Role, User
from trainingmgr.cohorts.models import (
    Cohort,
    Session,
    session_trainers,
)
from trainingmgr.core.errors import Forbidden, NotFound
from trainingmgr.core.permissions import allowed
from trainingmgr.core.scope import can_manage_programme
from trainingmgr.core.timefmt import fmt_date
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db

_COORDINATOR = frozenset({Role.COORDINATOR})


def is_coordinator(*, actor: User) -> bool:
    """Coordinators and administrators (who record attendance in their programmes)."""
    return allowed(actor, _COORDINATOR)


def coordinates(programme_id: int, *, actor: User) -> bool:
    """Whether ``actor`` is an administrator or a coordinator of the programme."""
    return is_coordinator(actor=actor) and can_manage_programme(programme_id, actor)


def _teaching(session_id: Any, person_id: Any) -> sa.Exists:
    return sa.exists().where(
        session_trainers.c.session_id == session_id,
        session_trainers.c.person_id == person_id,
    )


def teaches(session: Session, *, actor: User) -> bool:
    """Whether ``actor``'s person is one of the session's trainers: from the trainers if they
    are loaded, or from ``load_session`` if it was asked, otherwise one small query (loading
    the trainers cost every roster a query)."""
    person_id = getattr(actor, "person_id", None)
    if person_id is None:
        return False
    if "trainers" in sa.inspect(session).dict:
        return any(p.id == person_id for p in session.trainers)
    known = g.get("teaches", {}).get((session.id, person_id)) if has_request_context() else None
    if known is not None:
        return bool(known)
    return bool(db.session.scalar(sa.select(_teaching(session.id, person_id))))


def can_record(session: Session, *, actor: User) -> bool:
    """The one rule for recording a session's attendance and showing its check-in code:
    administrators for any session, coordinators for their programmes' sessions, trainers for
    the sessions they teach (the cohort must be loaded)."""
    if not getattr(actor, "is_authenticated", False):
        return False
    if coordinates(session.cohort.programme_id, actor=actor):
        return True
    return actor.has_role(Role.TRAINER) and teaches(session, actor=actor)


def can_view_cohort(cohort: Cohort, *, actor: User) -> bool:
    """Administrators see every cohort's attendance, coordinators their programmes' cohorts,
    trainers the cohorts they teach in."""
    if not getattr(actor, "is_authenticated", False):
        return False
    if coordinates(cohort.programme_id, actor=actor):
        return True
    if not actor.has_role(Role.TRAINER) or actor.person_id is None:
        return False
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists()
                .where(session_trainers.c.session_id == Session.id)
                .where(Session.cohort_id == cohort.id)
                .where(session_trainers.c.person_id == actor.person_id)
            )
        )
    )


@cache
def _session_statement(with_teacher: bool, lock: bool) -> sa.Select[Any]:
    """``load_session``'s query, built once (every roster and check-in runs it)."""
    teaching = _teaching(Session.id, sa.bindparam("teacher")) if with_teacher else sa.null()
    statement = (
        sa.select(Session, teaching)
        .where(Session.id == sa.bindparam("session_id"))
        .options(
            joinedload(Session.cohort).joinedload(Cohort.programme),
            joinedload(Session.module),
        )
    )
    return statement.with_for_update(of=Session) if lock else statement


def load_session(session_id: int, *, teacher: int | None = None, lock: bool = False) -> Session:
    """The session with its cohort, programme and module (NotFound if there is none); with
    ``teacher`` (a person id), whether they teach it comes in the same query (``teaches``).

    ``lock=True`` serialises writes to the session's attendance (a row lock on PostgreSQL,
    taken by the same query): two people saving the same roster, or a roster save and a
    check-in, then run one after the other, each seeing what the other committed. SQLite
    serialises writers anyway.
    """
    row = db.session.execute(
        _session_statement(teacher is not None, lock),
        {"session_id": session_id, "teacher": teacher},
    ).first()
    if row is None:
        raise NotFound(_("There is no such session."))
    session, teaches_it = row
    if teacher is not None and has_request_context():
        g.setdefault("teaches", {})[(session.id, teacher)] = bool(teaches_it)
    return session


def session_for_recording(session_id: int, *, actor: User, lock: bool = False) -> Session:
    """The session, if ``actor`` may record its attendance (NotFound / Forbidden otherwise);
    ``lock``: locked for writing its attendance (``load_session``)."""
    session = load_session(session_id, teacher=getattr(actor, "person_id", None), lock=lock)
    if not can_record(session, actor=actor):
        raise Forbidden(_("You can record attendance only for the sessions you teach."))
    return session


def local_day(at: datetime, tz: str) -> date:
    return at.astimezone(ZoneInfo(tz)).date()


def recording_refusal(session: Session, now: datetime | None = None) -> str | None:
    """Why the roster of ``session`` cannot be recorded now, or None when it can."""
    now = now or utcnow()
    if not session.scheduled:
        return _("This session was cancelled: there is no attendance to record.")
    tz = session.cohort.timezone
    if local_day(session.starts_at, tz) > local_day(now, tz):
        return _(
            "Attendance can be recorded from the day of the session (%(day)s).",
            day=fmt_date(session.starts_at, tz),
        )
    return None
