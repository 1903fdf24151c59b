"""Invitations: who may invite whom (an administrator: administrators, coordinators and
trainers; a coordinator: trainers, for the programmes they coordinate), the new account
and its e-mailed link.

A trainer's sessions and a participant's enrolments belong to their record in the directory:
an invited trainer or participant takes the record with their address, or gets a new one
made from the invitation's names, so that they can be given sessions at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _

from trainingmgr.accounts import services as accounts
from trainingmgr.accounts import tokens
from trainingmgr.accounts.models import Role, TokenPurpose, User
from trainingmgr.admin.roles import _programmes, _roles
from trainingmgr.audit import services as audit
from trainingmgr.core.errors import Checks, DomainError
from trainingmgr.core.scope import managed_programme_ids
from trainingmgr.core.urls import external_url
from trainingmgr.extensions import db
from trainingmgr.people import services as people
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import Programme

INVITATION_LIFETIME = timedelta(days=accounts.INVITATION_DAYS)
# Roles whose account needs a record in the directory (sessions taught, enrolments).
PERSON_ROLES = frozenset({Role.TRAINER, Role.PARTICIPANT})


def grantable_roles(*, actor: User) -> list[Role]:
    """The roles ``actor`` may give in an invitation."""
    if actor.has_role(Role.ADMIN):
        return [Role.ADMIN, Role.COORDINATOR, Role.TRAINER, Role.PARTICIPANT]
    if actor.has_role(Role.COORDINATOR):
        return [Role.TRAINER]
    return []


def invitable_programmes(*, actor: User) -> list[Programme]:
    """The programmes ``actor`` may invite for (an administrator: every programme)."""
    ids = managed_programme_ids(actor)
    query = sa.select(Programme).order_by(Programme.code)
    if ids is not None:
        query = query.where(Programme.id.in_(ids))
    return list(db.session.scalars(query))


@dataclass
class InvitationData:
    email: str
    roles: list[Role | str]
    programme_ids: list[int] = field(default_factory=list)
    first_name: str = ""
    last_name: str = ""

    @property
    def display_name(self) -> str:
        """How the account is greeted: the names given, as typed."""
        names = (self.first_name.strip(), self.last_name.strip())
        return " ".join(name for name in names if name)[:200]


def _mail_locale() -> str | None:
    try:
        locale = get_locale()
    except RuntimeError:
        return None
    return locale.language if locale is not None else None


def _send_invitation(user: User, programmes: list[Programme], *, actor: User) -> None:
    token = tokens.make_token(user, TokenPurpose.INVITATION, INVITATION_LIFETIME, actor=actor)
    from trainingmgr.mail import services as mail

    mail.send(
        "invitation",
        mail.user_address(user),
        {
            "user": user,
            "url": external_url("accounts.accept_invitation", token=token),
            "inviter": actor,
            "roles": [str(r.label) for r in sorted(user.roles)],
            "days": INVITATION_LIFETIME.days,
            "programmes": programmes,
        },
        locale=_mail_locale(),
        user_id=user.id,
        programme_id=programmes[0].id if programmes else None,
    )


def _invited_roles(wanted: list[str], *, actor: User) -> set[Role]:
    roles = _roles(wanted)
    if not roles:
        raise DomainError(_("Choose the role of the new account."), "roles")
    allowed = grantable_roles(actor=actor)
    for role in sorted(roles):
        if role not in allowed:
            raise DomainError(_("You may not give the role “%(role)s”.", role=role.label), "roles")
    return roles


def _invited_programmes(programme_ids: list[int], *, actor: User) -> list[Programme]:
    programmes = _programmes(programme_ids)
    managed = managed_programme_ids(actor)
    if managed is not None:
        if not programmes:
            raise DomainError(_("Choose the programme the trainer is invited for."), "programmes")
        if {p.id for p in programmes} - managed:
            raise DomainError(
                _("You can invite trainers only for the programmes you coordinate."),
                "programmes",
            )
    return programmes


def _new_address(value: str) -> str:
    email = accounts.normalise_email(value)
    if accounts.get_user_by_email(email) is not None:
        raise DomainError(
            _(
                "%(email)s already has an account. An administrator can give it more roles "
                "on its account page.",
                email=email,
            ),
            "email",
        )
    return email


def _person_without_account(email: str) -> Person | None:
    """A person record with this address (a past participant, say) becomes the account's,
    so someone who trained here and now teaches keeps one identity."""
    person = db.session.scalar(
        sa.select(Person).where(Person.email == email, Person.merged_into_id.is_(None))
    )
    if person is not None and db.session.scalar(
        sa.select(User.id).where(User.person_id == person.id)
    ):
        return None
    return person


def _new_person(data: InvitationData, email: str) -> people.PersonData:
    """The directory record of an invited trainer or participant not in the directory yet,
    checked (nothing is written)."""
    if not (data.first_name.strip() or data.last_name.strip()):
        raise DomainError(
            _(
                "Enter their first or last name: a trainer or participant also gets a record "
                "in the directory, which their sessions, enrolments and certificates use."
            ),
            "first_name",
        )
    person = people.PersonData(first_name=data.first_name, last_name=data.last_name, email=email)
    people.check_person(person)
    return person


def _audit_invitation(
    user: User, roles: set[Role], programmes: list[Programme], ip: str | None, *, actor: User
) -> None:
    audit.record(
        "user.invited",
        actor=actor,
        obj=user,
        programme_id=programmes[0].id if programmes else None,
        changes={
            "roles": [None, sorted(r.value for r in roles)],
            "programmes": [None, [p.id for p in programmes]],
        },
        summary=user.email,
        ip=ip,
    )
    for programme in programmes if Role.COORDINATOR in roles else []:
        audit.record(
            "user.programme_assigned",
            actor=actor,
            obj=user,
            programme_id=programme.id,
            summary=f"{user.email}: {programme.code}",
            ip=ip,
        )


def invite(data: InvitationData, *, actor: User, ip: str | None = None) -> User:
    """Create the account (no password yet), its invitation link, and queue the e-mail.

    Everything is checked before anything is written, and every refusal is reported at once
    (``FieldErrors``): a role ``actor`` may not give, a programme outside their scope, an
    address that already has an account, a trainer or participant with no name and no record
    in the directory.
    """
    checks = Checks()
    roles = checks.run(_invited_roles, data.roles, actor=actor)
    programmes = checks.run(_invited_programmes, data.programme_ids, actor=actor)
    email = checks.run(_new_address, data.email)
    person = _person_without_account(email) if email else None
    new_person = None
    if email and person is None and roles and roles & PERSON_ROLES:
        new_person = checks.run(_new_person, data, email)
    checks.done()
    assert roles is not None and programmes is not None and email is not None
    if new_person is not None:
        person = people.create_person(new_person, actor=actor)
    user = accounts.create_user(
        email,
        roles,
        None,
        display_name=data.display_name,
        person_id=person.id if person else None,
        actor=actor,
    )
    if Role.COORDINATOR in roles:
        user.programmes[:] = programmes
    # The e-mail names the programmes the person will coordinate or teach in.
    teaches = roles & {Role.COORDINATOR, Role.TRAINER}
    _send_invitation(user, programmes if teaches else [], actor=actor)
    _audit_invitation(user, roles, programmes, ip, actor=actor)
    db.session.flush()
    return user


def resend_invitation(user: User, *, actor: User, ip: str | None = None) -> None:
    """A new invitation link for an account that has no password yet (earlier links stay
    good once each until the account has a password)."""
    if not user.active:
        raise DomainError(_("This account is deactivated: reactivate it first."))
    if user.password_hash:
        raise DomainError(
            _("%(email)s has already set a password: no invitation is needed.", email=user.email)
        )
    _send_invitation(user, list(user.programmes), actor=actor)
    audit.record("user.invitation_resent", actor=actor, obj=user, summary=user.email, ip=ip)
