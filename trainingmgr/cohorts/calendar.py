"""iCalendar (RFC 5545) files of a cohort's sessions and of a trainer's sessions.

Each session is one VEVENT with a stable UID (``session-<id>@<host of BASE_URL>``), its start
and end in the cohort's zone (with a VTIMEZONE for every zone used) and a SEQUENCE that
counts the audited changes of its time, content or status, so calendar apps update it.
Cancelled sessions stay in the file with STATUS:CANCELLED so apps remove them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from anyascii import anyascii
from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy.orm import joinedload, selectinload

from trainingmgr.accounts.models import Role, User
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts.models import (
    Cohort,
    DeliveryMode,
    Session,
    session_trainers,
)
from trainingmgr.core.errors import NotFound
from trainingmgr.core.permissions import allowed
from trainingmgr.core.scope import managed_programme_ids, person_in_scope, scope_cohort_ids
from trainingmgr.extensions import db
from trainingmgr.people.models import Person

# Audited session changes that make calendar apps replace their copy of the event.
SEQUENCE_ACTIONS = ("session.update", "session.cancel", "session.uncancel")


@dataclass(frozen=True)
class CalendarFile:
    filename: str
    body: bytes


def _host() -> str:
    return urlsplit(current_app.config.get("BASE_URL", "")).hostname or "trainingmgr.invalid"


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")
    return slug[:60].strip("-") or "calendar"


def _sessions_query() -> sa.Select[tuple[Session]]:
    return (
        sa.select(Session)
        .options(
            joinedload(Session.cohort).joinedload(Cohort.programme),
            joinedload(Session.module),
            selectinload(Session.trainers),
        )
        .order_by(Session.starts_at, Session.id)
    )


def _sequences(session_ids: list[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = db.session.execute(
        sa.select(AuditEvent.object_id, sa.func.count())
        .where(
            AuditEvent.object_type == Session.__tablename__,
            AuditEvent.object_id.in_(session_ids),
            AuditEvent.action.in_(SEQUENCE_ACTIONS),
        )
        .group_by(AuditEvent.object_id)
    ).all()
    return {int(object_id): int(n) for object_id, n in rows if object_id is not None}


def _event(session: Session, host: str, sequence: int, with_cohort: bool) -> Event:
    cohort = session.cohort
    tz = ZoneInfo(cohort.timezone)
    title = session.display_title or _("Session")
    event = Event()
    event.add("uid", f"session-{session.id}@{host}")
    event.add("dtstamp", session.updated_at)
    event.add("created", session.created_at)
    event.add("last-modified", session.updated_at)
    event.add("dtstart", session.starts_at.astimezone(tz))
    event.add("dtend", session.ends_at.astimezone(tz))
    event.add(
        "summary",
        f"{title} ({cohort.programme.code} · {cohort.name})" if with_cohort else title,
    )
    event.add("sequence", sequence)
    event.add("status", "CONFIRMED" if session.scheduled else "CANCELLED")
    place = ", ".join(p for p in (session.location or cohort.venue, cohort.city) if p)
    if session.mode == DeliveryMode.ONLINE:
        place = str(_("Online"))
    if place:
        event.add("location", place)
    url = session.online_url or cohort.online_url
    if url and session.mode != DeliveryMode.IN_PERSON:
        event.add("url", url)
    lines = [f"{cohort.programme.title} · {cohort.name}"]
    if session.module is not None:
        lines.append(_("Module: %(m)s", m=f"{session.module.code} {session.module.title}"))
    if session.trainers:
        names = ", ".join(p.full_name for p in session.trainers)
        lines.append(_("Trainers: %(names)s", names=names))
    if url and session.mode != DeliveryMode.IN_PERSON:
        lines.append(_("Online: %(url)s", url=url))
    event.add("description", "\n".join(lines))
    return event


def build_calendar(
    name: str, sessions: list[Session], zone: str | None = None, with_cohort: bool = False
) -> bytes:
    """An RFC 5545 calendar named ``name`` holding one event per session."""
    cal = Calendar()
    organisation = current_app.config.get("ORGANISATION_NAME", "trainingmgr")
    cal.add("prodid", f"-//{organisation}//trainingmgr//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    if zone:
        cal.add("x-wr-timezone", zone)
    host = _host()
    sequences = _sequences([s.id for s in sessions])
    for session in sessions:
        cal.add_component(_event(session, host, sequences.get(session.id, 0), with_cohort))
    cal.add_missing_timezones()
    # Time zones first: some calendar apps read the file in one pass.
    cal.subcomponents.sort(key=lambda c: c.name != "VTIMEZONE")
    return cal.to_ical()


def cohort_calendar(cohort: Cohort) -> CalendarFile:
    """The sessions of one cohort (cancelled ones included, marked cancelled)."""
    sessions = list(
        db.session.scalars(_sessions_query().where(Session.cohort_id == cohort.id)).unique()
    )
    name = f"{cohort.programme.code} · {cohort.name}"
    return CalendarFile(
        filename=f"{_slug(cohort.programme.code + '-' + cohort.name)}.ics",
        body=build_calendar(name, sessions, zone=cohort.timezone),
    )


def trainer_calendar(person_id: int, *, actor: User) -> CalendarFile:
    """A trainer's sessions across cohorts, as ``actor`` may see them. Coordinators and admins
    may get anyone's (a coordinator sees only the sessions of their programmes in it); a
    trainer only their own (anyone else's does not exist for them: ``NotFound``)."""
    if actor.person_id != person_id and not (
        allowed(actor, frozenset({Role.COORDINATOR})) and person_in_scope(person_id, actor)
    ):
        raise NotFound(_("No such calendar."))
    person = db.session.get(Person, person_id)
    if person is None:
        raise NotFound(_("No such calendar."))
    query = _sessions_query().where(
        Session.id.in_(
            sa.select(session_trainers.c.session_id).where(
                session_trainers.c.person_id == person_id
            )
        )
    )
    programme_ids = managed_programme_ids(actor)
    if actor.person_id != person_id and programme_ids is not None:
        query = query.where(Session.cohort_id.in_(scope_cohort_ids(programme_ids)))
    sessions = list(db.session.scalars(query).unique())
    return CalendarFile(
        filename=f"trainer-{_slug(person.full_name)}.ics",
        body=build_calendar(
            _("Sessions of %(name)s", name=person.full_name), sessions, with_cohort=True
        ),
    )
