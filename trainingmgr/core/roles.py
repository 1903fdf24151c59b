"""The roles a user may hold, and what the access rules need of a user. Defined in core,
which every domain may import, so that the access rules (``core.permissions``,
``core.scope``) need no domain; ``accounts.models`` re-exports ``Role`` as the accounts
domain's, and its ``User`` is a ``RoleHolder``."""

from __future__ import annotations

from typing import Protocol, TypeAlias

from flask_login import AnonymousUserMixin

from trainingmgr.core.types import Choice


class Role(Choice):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    TRAINER = "trainer"
    PARTICIPANT = "participant"


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
