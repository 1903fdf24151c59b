"""The e-mail about a session moved, cancelled or restored: who gets it, its preview."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from trainingmgr.cohorts.models import Enrolment, Session
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.mail.models import OutboxMessage
from trainingmgr.mail.recipients import (
    Recipient,
    _recipients,
    _send_to,
    calendar_attachment,
    cohort_locale,
    organisation_name,
)
from trainingmgr.mail.services import Attachment, Rendered, render
from trainingmgr.people.models import Person

SESSION_CHANGED = "session_changed"

# What happened to a session (``session_changed``'s ``change``).
MOVED = "moved"
CANCELLED = "cancelled"
RESTORED = "restored"  # a cancelled session is back in the schedule
CHANGES = (MOVED, CANCELLED, RESTORED)


def session_context(
    session: Session,
    person: Person,
    change: str,
    old_starts_at: datetime | None,
    old_ends_at: datetime | None,
    *,
    calendar_filename: str = "",
    organisation: str | None = None,
) -> dict[str, Any]:
    """The template context of ``session_changed`` (previews use it too)."""
    if change not in CHANGES:
        raise ValueError(f"change must be one of {', '.join(CHANGES)}, not {change!r}")
    cohort = session.cohort
    return {
        "person": person,
        "cohort": cohort,
        "programme": cohort.programme,
        "session": session,
        "change": change,
        "old_starts_at": old_starts_at or session.starts_at,
        "old_ends_at": old_ends_at or session.ends_at,
        "calendar_filename": calendar_filename,
        "organisation_name": organisation_name() if organisation is None else organisation,
    }


def session_change_recipients(
    session: Session, old_ends_at: datetime | None = None
) -> list[Recipient]:
    """Who is told about a change of ``session``: every active participant of its cohort
    (enrolled, completed or not completed) and its trainers, those with an e-mail address,
    in name order; nobody when the session is over (before and after the change). A fixed
    number of queries, whatever the number of participants."""
    now = utcnow()
    if session.ends_at <= now and (old_ends_at is None or old_ends_at <= now):
        return []
    people = db.session.scalars(
        sa.select(Person)
        .join(Enrolment, Enrolment.person_id == Person.id)
        .where(
            Enrolment.cohort_id == session.cohort_id,
            Enrolment.active,
            Person.email.is_not(None),
            Person.merged_into_id.is_(None),
        )
        .order_by(Person.last_name, Person.first_name, Person.id)
    ).all()
    taking_part = {p.id for p in people}
    trainers = [
        t
        for t in session.trainers
        if t.email and t.merged_into_id is None and t.id not in taking_part
    ]
    return _recipients([*people, *trainers], session.cohort)


def session_change_preview(
    session: Session,
    change: str,
    recipient: Recipient,
    old_starts_at: datetime | None = None,
    old_ends_at: datetime | None = None,
) -> Rendered:
    """The message ``recipient`` would get about the change, rendered (nothing is queued)."""
    context, locale, _calendar = _message(session, recipient, change, old_starts_at, old_ends_at)
    return render(SESSION_CHANGED, context, locale=locale)


def _message(
    session: Session,
    recipient: Recipient,
    change: str,
    old_starts_at: datetime | None,
    old_ends_at: datetime | None,
    organisation: str | None = None,
) -> tuple[dict[str, Any], str, Attachment]:
    """The context of ``recipient``'s message about the change, its language and the
    cohort's calendar to attach."""
    locale = cohort_locale(session.cohort, recipient.user_locale)
    calendar = calendar_attachment(session.cohort, locale)
    context = session_context(
        session,
        recipient.person,
        change,
        old_starts_at,
        old_ends_at,
        calendar_filename=calendar.filename,
        organisation=organisation,
    )
    return context, locale, calendar


def session_changed(
    session: Session,
    change: str,
    old_starts_at: datetime | None = None,
    old_ends_at: datetime | None = None,
) -> list[OutboxMessage]:
    """Tell the people ``session_change_recipients`` names that the session was moved,
    cancelled or restored.

    ``change`` is "moved" (give the old times), "cancelled" or "restored". One message per
    person, with the updated schedule attached (calendar apps update their copy). Nothing is
    sent about a session that is over (before and after the change). A fixed number of
    queries, whatever the number of participants.
    """
    if change not in CHANGES:
        raise ValueError(f"change must be one of {', '.join(CHANGES)}, not {change!r}")
    cohort = session.cohort
    recipients = session_change_recipients(session, old_ends_at)
    if not recipients:
        return []
    organisation = organisation_name()
    messages = []
    for recipient in recipients:
        context, locale, calendar = _message(
            session, recipient, change, old_starts_at, old_ends_at, organisation
        )
        messages.append(_send_to(SESSION_CHANGED, recipient, cohort, context, locale, [calendar]))
    return messages
