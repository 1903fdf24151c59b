"""Users and their roles. A user may be linked to one person record."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainingmgr.core.roles import Role
from trainingmgr.core.types import Choice, UTCDateTime, str_enum, utcnow
from trainingmgr.extensions import db, link_table

if TYPE_CHECKING:
    from trainingmgr.people.models import Person
    from trainingmgr.programmes.models import Programme


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"), primary_key=True)


coordinator_programmes = link_table(
    "coordinator_programmes", ("user_id", "users.id"), ("programme_id", "programmes.id")
)

# Where a user keeps the ids of the programmes they coordinate once a query loaded them.
_PROGRAMME_IDS = "_coordinated_programme_ids"


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("people.id", ondelete="SET NULL"), unique=True
    )
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    # Bumped when the e-mail or password changes: invalidates sign-in links and sessions.
    auth_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Secret part of the private calendar feed URL; reset by the user (None: no feed yet).
    calendar_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # Two-factor sign-in (accounts.twofactor): the TOTP secret (base32), set while setting up
    # and kept once confirmed (``totp_enabled_at``); the last time step accepted (a code is
    # good once).
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    person: Mapped[Person | None] = relationship(back_populates="user")
    programmes: Mapped[list[Programme]] = relationship(secondary=coordinator_programmes)

    @property
    def stored_roles(self) -> set[Role]:
        """The roles given to the account (by invitation or on its account page)."""
        return {r.role for r in self.role_rows}

    @property
    def roles(self) -> set[Role]:
        """The stored roles plus those that follow from the linked person's enrolments and
        teaching (``accounts.roles``)."""
        from trainingmgr.accounts.roles import person_roles

        return self.stored_roles | person_roles(self.person_id)

    def coordinated_programme_ids(self) -> set[int]:
        """The ids of the programmes this user coordinates. The sign-in query loads them
        with the user (``accounts.sessions``); otherwise they come from ``programmes``."""
        ids = self.__dict__.get(_PROGRAMME_IDS)
        if ids is None:
            ids = frozenset(p.id for p in self.programmes)
        return set(ids)

    def remember_programme_ids(self, ids: Iterable[int]) -> None:
        """Keep the coordinated programme ids loaded by another query (the sign-in's)."""
        self.__dict__[_PROGRAMME_IDS] = frozenset(ids)

    def has_role(self, *roles: Role | str) -> bool:
        wanted = {Role(r) for r in roles}
        # The stored roles first: no query when one of them answers.
        if self.stored_roles & wanted:
            return True
        following = wanted & {Role.PARTICIPANT, Role.TRAINER}
        return bool(following) and bool(self.roles & following)

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot sign in
        return bool(self.active)

    def get_id(self) -> str:
        # The auth version in the session id makes old sessions stop working when it changes.
        return f"{self.id}:{self.auth_version}"

    @property
    def name(self) -> str:
        if self.person is not None:
            return self.person.full_name
        return self.display_name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email}>"


@sa.event.listens_for(User.programmes, "append")
@sa.event.listens_for(User.programmes, "remove")
def _forget_programme_ids(user: User, *_args: Any) -> None:
    """A change of the user's programmes makes the ids loaded before stale."""
    user.__dict__.pop(_PROGRAMME_IDS, None)


class TokenPurpose(Choice):
    SIGN_IN = "sign_in"
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


class UserToken(db.Model):
    """A one-time link (sign-in, invitation, password reset) e-mailed to a user.

    Only the SHA-256 of the token is stored. A token is good once, until it expires, and only
    while the user's ``auth_version`` is the one it was made for (changing the e-mail or the
    password invalidates it).

    A sign-in link may also be for a person who has no account yet (``person_id``, no
    ``user_id``): someone enrolled or teaching. Using it creates their account.
    """

    __tablename__ = "user_tokens"
    __table_args__ = (
        sa.CheckConstraint("user_id IS NOT NULL OR person_id IS NOT NULL", name="has_holder"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose, "token_purpose"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    auth_version: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    person: Mapped[Person | None] = relationship(foreign_keys=[person_id])


class SignIn(db.Model):
    """One signed-in browser: the server-side half of a session cookie.

    The session (and remember-me) cookie carries ``<user id>:<auth version>:<secret>``; only
    the secret's SHA-256 is stored. Signing out ends this row, so a copied cookie stops
    working at once; changing the password, deactivation and "sign out everywhere" end all
    of a user's rows (and bump ``auth_version``).
    """

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    remember: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # When the second factor was given (set at once for an account without two-factor
    # sign-in); until then the sign-in opens nothing but the code page.
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))


class RecoveryCode(db.Model):
    """A one-time code that stands in for the authenticator app (lost phone). Only its hash
    is stored; ten are made when two-factor sign-in is set up."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
