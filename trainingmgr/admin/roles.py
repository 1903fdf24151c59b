"""Changing an account's roles, programmes and activation.

The last active administrator cannot lose the role nor be deactivated. The check locks the
administrators' rows (``FOR UPDATE`` on PostgreSQL) so two administrators demoting each
other at the same moment cannot both succeed. Accounts are never deleted; deactivating ends
their open sessions and makes every e-mailed link useless, by bumping the auth version.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask_babel import gettext as _

from trainingmgr.accounts.models import Role, User, UserRole
from trainingmgr.accounts.roles import (
    person_roles,
)
from trainingmgr.admin.listing import _is_admin
from trainingmgr.audit import services as audit
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.programmes.models import Programme


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

    if _assign_programmes(user, programmes, actor=actor, ip=ip):
        changed = True
    db.session.flush()
    return changed


def _assign_programmes(
    user: User, programmes: list[Programme], *, actor: User, ip: str | None
) -> bool:
    """Give a coordinator exactly these programmes (audited). True if they changed."""
    old = {p.id: p for p in user.programmes}
    new = {p.id: p for p in programmes}
    for gained, lost in ((new, old), (old, new)):
        for pid in sorted(gained.keys() - lost.keys()):
            audit.record(
                "user.programme_assigned" if gained is new else "user.programme_unassigned",
                actor=actor,
                obj=user,
                programme_id=pid,
                summary=f"{user.email}: {gained[pid].code}",
                ip=ip,
            )
    if new.keys() != old.keys():
        user.programmes[:] = programmes
        return True
    return False


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
