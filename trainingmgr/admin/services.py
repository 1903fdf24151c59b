"""Accounts administration: the accounts list, changing roles, programmes, the linked person
record and activation, and invitations.

Rules kept here:

- Accounts are never deleted; they are deactivated (which also ends their open sessions and
  makes every e-mailed link useless, by bumping the auth version).
- The last active administrator cannot lose the role nor be deactivated. The check locks the
  administrators' rows (``FOR UPDATE`` on PostgreSQL) so two administrators demoting each
  other at the same moment cannot both succeed.
- One person record belongs to at most one account.
- An administrator may invite administrators, coordinators and trainers; a coordinator may
  invite trainers, for the programmes they coordinate.

Services do not commit; views do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, load_only, selectinload

from trainingmgr.accounts import services as accounts
from trainingmgr.accounts import tokens
from trainingmgr.accounts.models import Role, TokenPurpose, User, UserRole, UserToken
from trainingmgr.accounts.roles import (
    participant_condition,
    person_roles,
    preload,
    trainer_condition,
)
from trainingmgr.audit import services as audit
from trainingmgr.audit.models import AuditEvent
from trainingmgr.cohorts.models import Cohort, Session, session_trainers
from trainingmgr.core.errors import Checks, DomainError
from trainingmgr.core.pagination import DEFAULT_PER_PAGE, Page, paginate
from trainingmgr.core.scope import managed_programme_ids
from trainingmgr.core.text import fold_query
from trainingmgr.core.types import utcnow
from trainingmgr.core.urls import external_url
from trainingmgr.extensions import db
from trainingmgr.people.models import Person
from trainingmgr.people.services import search_condition
from trainingmgr.programmes.models import Programme

INVITATION_LIFETIME = timedelta(days=accounts.INVITATION_DAYS)


class AccountStatus:
    ACTIVE = "active"
    INVITED = "invited"
    INVITATION_EXPIRED = "invitation_expired"
    INACTIVE = "inactive"


# The status filter of the list: value -> label (translated when shown).
STATUS_FILTERS = ("active", "invited", "inactive")


# --------------------------------------------------------------------------- the list


def _positive_int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


@dataclass(frozen=True)
class AccountFilter:
    q: str = ""
    role: Role | None = None
    status: str = ""
    programme_id: int | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> AccountFilter:
        """Filters from query arguments; values that make no sense are ignored."""
        role = args.get("role") or ""
        status = args.get("status") or ""
        return cls(
            q=(args.get("q") or "").strip()[:200],
            role=Role(role) if role in {r.value for r in Role} else None,
            status=status if status in STATUS_FILTERS else "",
            programme_id=_positive_int(args.get("programme")),
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.role or self.status or self.programme_id)


@dataclass(frozen=True)
class AccountRow:
    user: User
    # When the newest invitation not yet used expires (None: no open invitation).
    invitation_until: datetime | None
    # For a trainer: the programmes of the sessions they teach (by code).
    taught: list[Programme] = field(default_factory=list)

    @property
    def status(self) -> str:
        return account_status(self.user, self.invitation_until)


def account_status(user: User, invitation_until: datetime | None) -> str:
    if not user.active:
        return AccountStatus.INACTIVE
    if user.password_hash is None and user.last_login_at is None and invitation_until:
        if invitation_until > utcnow():
            return AccountStatus.INVITED
        return AccountStatus.INVITATION_EXPIRED
    return AccountStatus.ACTIVE


def _open_invitation_until() -> Any:
    return (
        sa.select(sa.func.max(UserToken.expires_at))
        .where(
            UserToken.user_id == User.id,
            UserToken.purpose == TokenPurpose.INVITATION,
            UserToken.used_at.is_(None),
        )
        .correlate(User)
        .scalar_subquery()
    )


def _is_admin() -> Any:
    return User.role_rows.any(UserRole.role == Role.ADMIN)


def account_query(filters: AccountFilter) -> sa.Select[Any]:
    invitation_until = _open_invitation_until()
    query = (
        sa.select(User, invitation_until.label("invitation_until"))
        .outerjoin(Person, User.person_id == Person.id)
        .options(contains_eager(User.person), selectinload(User.programmes))
        .order_by(User.email)
    )
    for original, latin in fold_query(filters.q):
        forms = sorted({original, latin} - {""})
        query = query.where(
            sa.or_(
                *(User.email.contains(f, autoescape=True) for f in forms),
                *(sa.func.lower(User.display_name).contains(f, autoescape=True) for f in forms),
                *(Person.search_text.contains(f, autoescape=True) for f in forms),
            )
        )
    if filters.role is not None:
        # Participants and trainers are also those whose person is enrolled or teaching.
        follows = {Role.PARTICIPANT: participant_condition, Role.TRAINER: trainer_condition}
        condition = User.role_rows.any(UserRole.role == filters.role)
        if filters.role in follows:
            condition = sa.or_(condition, follows[filters.role](User.person_id))
        query = query.where(condition)
    if filters.programme_id is not None:
        query = query.where(
            sa.or_(
                User.programmes.any(Programme.id == filters.programme_id),
                sa.and_(
                    User.role_rows.any(UserRole.role == Role.TRAINER),
                    User.person_id.in_(_teaching_in(filters.programme_id)),
                ),
            )
        )
    if filters.status == "active":
        query = query.where(User.active.is_(True))
    elif filters.status == "inactive":
        query = query.where(User.active.is_(False))
    elif filters.status == "invited":
        query = query.where(
            User.active.is_(True),
            User.password_hash.is_(None),
            User.last_login_at.is_(None),
            invitation_until.is_not(None),
        )
    return query


def _teaching_in(programme_id: int) -> sa.Select[Any]:
    """The ids of the people who teach a session of the programme."""
    return (
        sa.select(session_trainers.c.person_id)
        .join(Session, Session.id == session_trainers.c.session_id)
        .join(Cohort, Cohort.id == Session.cohort_id)
        .where(Cohort.programme_id == programme_id)
    )


def programmes_taught(person_ids: Iterable[int]) -> dict[int, list[Programme]]:
    """For each person, the programmes whose sessions they teach (two queries)."""
    ids = set(person_ids)
    if not ids:
        return {}
    pairs = db.session.execute(
        sa.select(session_trainers.c.person_id, Cohort.programme_id)
        .join(Session, Session.id == session_trainers.c.session_id)
        .join(Cohort, Cohort.id == Session.cohort_id)
        .where(session_trainers.c.person_id.in_(ids))
        .distinct()
    ).all()
    programmes = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Programme)
            .where(Programme.id.in_({pid for _person, pid in pairs}))
            .options(load_only(Programme.id, Programme.code, Programme.title))
        )
    }
    taught: dict[int, list[Programme]] = {}
    for person_id, programme_id in pairs:
        taught.setdefault(person_id, []).append(programmes[programme_id])
    return {k: sorted(v, key=lambda p: p.code) for k, v in taught.items()}


def account_list(
    filters: AccountFilter, page: int = 1, per_page: int = DEFAULT_PER_PAGE
) -> Page[AccountRow]:
    """One page of accounts: a fixed number of queries whatever their number."""
    result = paginate(account_query(filters), page, per_page, scalars=False)
    preload(u.person_id for u, _until in result.items)
    trainers = [u.person_id for u, _until in result.items if u.person_id and u.has_role("trainer")]
    taught = programmes_taught(trainers)
    rows = [
        AccountRow(user, until, taught.get(user.person_id, []) if user.has_role("trainer") else [])
        for user, until in result.items
    ]
    return Page(items=rows, page=result.page, per_page=result.per_page, total=result.total)


def programme_options() -> list[Programme]:
    return list(db.session.scalars(sa.select(Programme).order_by(Programme.code)))


# --------------------------------------------------------------------------- one account


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


def _lock_admins_and(user: User) -> None:
    """Lock the active administrators' rows, then the account's, and reload the account.

    Every change that could take away the last administrator goes through here first, always
    locking in the same order (administrators by id, then the account), so concurrent changes
    wait for each other instead of each counting the administrators before the other's change.
    """
    db.session.execute(
        sa.select(User.id)
        .where(User.active.is_(True), _is_admin())
        .order_by(User.id)
        .with_for_update(of=User)
    )
    db.session.execute(
        sa.select(User)
        .where(User.id == user.id)
        .with_for_update(of=User)
        .execution_options(populate_existing=True)
    )


def _refuse_if_last_admin(user: User, roles: set[Role], active: bool) -> None:
    """DomainError if the change would leave no active administrator (nothing written)."""
    was_admin = user.active and Role.ADMIN in user.roles
    stays_admin = active and Role.ADMIN in roles
    if not was_admin or stays_admin:
        return
    others = db.session.scalar(
        sa.select(sa.func.count(User.id)).where(
            User.active.is_(True), _is_admin(), User.id != user.id
        )
    )
    if not others:
        raise DomainError(
            _(
                "%(name)s is the last active administrator: give another account the "
                "administrator role first. Nothing was changed.",
                name=user.name,
            ),
            "roles",
        )


def _roles(values: Iterable[Role | str]) -> set[Role]:
    known = {r.value for r in Role}
    for value in values:
        if str(value) not in known:
            raise DomainError(_("“%(role)s” is not a role.", role=value), "roles")
    return {Role(v) for v in values}


def _programmes(ids: Iterable[int]) -> list[Programme]:
    wanted = set(ids)
    if not wanted:
        return []
    found = list(
        db.session.scalars(
            sa.select(Programme).where(Programme.id.in_(wanted)).order_by(Programme.code)
        )
    )
    if len(found) != len(wanted):
        raise DomainError(_("One of the chosen programmes does not exist."), "programmes")
    return found


def update_account(
    user: User,
    roles: Iterable[Role | str],
    programme_ids: Iterable[int],
    *,
    actor: User,
    ip: str | None = None,
) -> bool:
    """Set the account's roles and (for a coordinator) programmes. True if anything changed.

    Programmes are assigned to coordinators only: without the coordinator role the account
    keeps none.
    """
    new_roles = _roles(roles)
    if not new_roles and not person_roles(user.person_id):
        raise DomainError(_("Give the account at least one role."), "roles")
    programmes = _programmes(programme_ids) if Role.COORDINATOR in new_roles else []
    _lock_admins_and(user)
    _refuse_if_last_admin(user, new_roles, user.active)

    changed = False
    old_roles = user.stored_roles
    if new_roles != old_roles:
        user.role_rows[:] = [r for r in user.role_rows if r.role in new_roles]
        for role in sorted(new_roles - old_roles):
            user.role_rows.append(UserRole(role=role))
        audit.record(
            "user.roles",
            actor=actor,
            obj=user,
            changes={"roles": [sorted(r.value for r in old_roles), sorted(new_roles)]},
            summary=user.email,
            ip=ip,
        )
        changed = True

    old = {p.id: p for p in user.programmes}
    new = {p.id: p for p in programmes}
    for pid in sorted(new.keys() - old.keys()):
        audit.record(
            "user.programme_assigned",
            actor=actor,
            obj=user,
            programme_id=pid,
            summary=f"{user.email}: {new[pid].code}",
            ip=ip,
        )
    for pid in sorted(old.keys() - new.keys()):
        audit.record(
            "user.programme_unassigned",
            actor=actor,
            obj=user,
            programme_id=pid,
            summary=f"{user.email}: {old[pid].code}",
            ip=ip,
        )
    if new.keys() != old.keys():
        user.programmes[:] = programmes
        changed = True
    db.session.flush()
    return changed


def set_active(user: User, active: bool, *, actor: User, ip: str | None = None) -> bool:
    """Deactivate or reactivate. Deactivating ends the account's sessions and links."""
    _lock_admins_and(user)
    if user.active == active:
        return False
    _refuse_if_last_admin(user, user.roles, active)
    user.active = active
    if not active:
        user.auth_version = (user.auth_version or 0) + 1
    audit.record(
        "user.reactivated" if active else "user.deactivated",
        actor=actor,
        obj=user,
        changes={"active": [not active, active]},
        summary=user.email,
        ip=ip,
    )
    db.session.flush()
    return True


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


# --------------------------------------------------------------------------- invitations


def grantable_roles(inviter: User) -> list[Role]:
    """The roles ``inviter`` may give in an invitation."""
    if inviter.has_role(Role.ADMIN):
        return [Role.ADMIN, Role.COORDINATOR, Role.TRAINER, Role.PARTICIPANT]
    if inviter.has_role(Role.COORDINATOR):
        return [Role.TRAINER]
    return []


def invitable_programmes(inviter: User) -> list[Programme]:
    """The programmes ``inviter`` may invite for (an administrator: every programme)."""
    ids = managed_programme_ids(inviter)
    query = sa.select(Programme).order_by(Programme.code)
    if ids is not None:
        query = query.where(Programme.id.in_(ids))
    return list(db.session.scalars(query))


@dataclass
class InvitationData:
    email: str
    roles: list[Role | str]
    programme_ids: list[int] = field(default_factory=list)
    display_name: str = ""


def _mail_locale() -> str | None:
    try:
        locale = get_locale()
    except RuntimeError:
        return None
    return locale.language if locale is not None else None


def _send_invitation(user: User, inviter: User, programmes: list[Programme]) -> None:
    token = tokens.make_token(
        user, TokenPurpose.INVITATION, INVITATION_LIFETIME, created_by=inviter
    )
    from trainingmgr.mail import services as mail

    mail.send(
        "invitation",
        mail.user_address(user),
        {
            "user": user,
            "url": external_url("accounts.accept_invitation", token=token),
            "inviter": inviter,
            "roles": [str(r.label) for r in sorted(user.roles)],
            "days": INVITATION_LIFETIME.days,
            "programmes": programmes,
        },
        locale=_mail_locale(),
        user_id=user.id,
        programme_id=programmes[0].id if programmes else None,
    )


def _invited_roles(inviter: User, wanted: list[str]) -> set[Role]:
    roles = _roles(wanted)
    if not roles:
        raise DomainError(_("Choose the role of the new account."), "roles")
    allowed = grantable_roles(inviter)
    for role in sorted(roles):
        if role not in allowed:
            raise DomainError(_("You may not give the role “%(role)s”.", role=role.label), "roles")
    return roles


def _invited_programmes(inviter: User, programme_ids: list[int]) -> list[Programme]:
    programmes = _programmes(programme_ids)
    managed = managed_programme_ids(inviter)
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


def _audit_invitation(
    user: User, inviter: User, roles: set[Role], programmes: list[Programme], ip: str | None
) -> None:
    audit.record(
        "user.invited",
        actor=inviter,
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
            actor=inviter,
            obj=user,
            programme_id=programme.id,
            summary=f"{user.email}: {programme.code}",
            ip=ip,
        )


def invite(inviter: User, data: InvitationData, *, ip: str | None = None) -> User:
    """Create the account (no password yet), its invitation link, and queue the e-mail.

    Everything is checked before anything is written, and every refusal is reported at once
    (``FieldErrors``): a role the inviter may not give, a programme outside their scope, an
    address that already has an account.
    """
    checks = Checks()
    roles = checks.run(_invited_roles, inviter, data.roles)
    programmes = checks.run(_invited_programmes, inviter, data.programme_ids)
    email = checks.run(_new_address, data.email)
    checks.done()
    assert roles is not None and programmes is not None and email is not None
    person = _person_without_account(email)
    user = accounts.create_user(
        email,
        roles,
        None,
        display_name=data.display_name.strip()[:200],
        person_id=person.id if person else None,
        actor=inviter,
    )
    if Role.COORDINATOR in roles:
        user.programmes[:] = programmes
    # The e-mail names the programmes the person will coordinate or teach in.
    teaches = roles & {Role.COORDINATOR, Role.TRAINER}
    _send_invitation(user, inviter, programmes if teaches else [])
    _audit_invitation(user, inviter, roles, programmes, ip)
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
    _send_invitation(user, actor, list(user.programmes))
    audit.record("user.invitation_resent", actor=actor, obj=user, summary=user.email, ip=ip)
