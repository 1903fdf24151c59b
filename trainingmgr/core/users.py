"""What the access rules (``core.permissions``, ``core.scope``) read of a user, as a
protocol: core imports no domain, and ``accounts.models.User`` meets it."""

from __future__ import annotations

from typing import Protocol, TypeAlias

from flask_login import AnonymousUserMixin

from trainingmgr.core.roles import Role


class RoleHolder(Protocol):
    """What the access rules read of a signed-in user (``accounts.models.User``)."""

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def stored_roles(self) -> set[Role]:
        """The roles given to the account (no query)."""
        ...

    @property
    def roles(self) -> set[Role]:
        """The stored roles and those that follow from enrolments and teaching."""
        ...

    def has_role(self, *roles: Role | str) -> bool: ...

    def coordinated_programme_ids(self) -> set[int]: ...


# Who a request comes from: a signed-in user, or Flask-Login's anonymous user.
Visitor: TypeAlias = RoleHolder | AnonymousUserMixin
