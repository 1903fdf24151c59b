"""One account's page: the account, its open invitation, its audit events and the person
record linked to it (one person record belongs to at most one account).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from trainingmgr.accounts.models import TokenPurpose, User, UserToken
from trainingmgr.audit import services as audit
from trainingmgr.audit.models import AuditEvent
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.people.models import Person
from trainingmgr.people.services import search_condition


def get_account(user_id: int) -> User | None:
    return db.session.get(User, user_id)


def open_invitation_until(user: User) -> datetime | None:
    return db.session.scalar(
        sa.select(sa.func.max(UserToken.expires_at)).where(
            UserToken.user_id == user.id,
            UserToken.purpose == TokenPurpose.INVITATION,
            UserToken.used_at.is_(None),
        )
    )


# How the events about an account read on its page.
EVENT_LABELS: dict[str, Any] = {
    "user.create": _l("Account created"),
    "user.invited": _l("Invited"),
    "user.invitation_resent": _l("Invitation sent again"),
    "user.invitation_accepted": _l("Invitation accepted"),
    "user.roles": _l("Roles changed"),
    "user.programme_assigned": _l("Programme assigned"),
    "user.programme_unassigned": _l("Programme removed"),
    "user.person": _l("Person record linked or unlinked"),
    "user.deactivated": _l("Deactivated"),
    "user.reactivated": _l("Reactivated"),
    "auth.sign_in": _l("Signed in"),
    "auth.sign_in_failed": _l("Failed sign-in"),
    "auth.sign_out": _l("Signed out"),
    "auth.password_changed": _l("Password changed"),
    "auth.password_reset_requested": _l("Password reset asked for"),
    "auth.password_reset": _l("Password reset"),
}


def event_label(action: str) -> Any:
    return EVENT_LABELS.get(action, action)


def account_events(user: User, limit: int = 20) -> list[AuditEvent]:
    """The latest audit events about this account (sign-ins, changes, invitations)."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.object_type == User.__tablename__, AuditEvent.object_id == user.id)
            .options(selectinload(AuditEvent.actor))
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class PersonCandidate:
    person: Person
    account_email: str | None  # the account this record is linked to, if any


def person_candidates(q: str, limit: int = 20) -> list[PersonCandidate]:
    """People records matching ``q`` (name or e-mail, any script), to link to an account."""
    if not q.strip():
        return []
    rows = db.session.execute(
        sa.select(Person, User.email)
        .outerjoin(User, User.person_id == Person.id)
        .where(Person.merged_into_id.is_(None), search_condition(q))
        .order_by(Person.last_name, Person.first_name, Person.id)
        .limit(limit)
    )
    return [PersonCandidate(person, email) for person, email in rows]


def link_person(user: User, person_id: int | None, *, actor: User, ip: str | None = None) -> bool:
    """Link the account to a person record (None: unlink). True if it changed."""
    if person_id == user.person_id:
        return False
    if person_id is not None:
        person = db.session.get(Person, person_id)
        if person is None:
            raise DomainError(_("There is no person record #%(id)s.", id=person_id), "person_id")
        if person.merged_into_id is not None:
            raise DomainError(
                _(
                    "Record #%(id)s was merged into record #%(into)s: link that one.",
                    id=person_id,
                    into=person.merged_into_id,
                ),
                "person_id",
            )
        owner = db.session.scalar(sa.select(User).where(User.person_id == person_id))
        if owner is not None and owner.id != user.id:
            raise DomainError(
                _(
                    "%(name)s is already linked to the account %(email)s. A person has one "
                    "account: change that account's roles instead.",
                    name=person.full_name,
                    email=owner.email,
                ),
                "person_id",
            )
    old = user.person_id
    user.person_id = person_id
    db.session.flush()
    db.session.expire(user, ["person"])
    audit.record(
        "user.person",
        actor=actor,
        obj=user,
        changes={"person_id": [old, person_id]},
        summary=user.email,
        ip=ip,
    )
    return True
