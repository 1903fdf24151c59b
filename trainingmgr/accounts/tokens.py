"""One-time links e-mailed to users: sign-in, invitation and password reset.

The token is 32 random bytes (URL-safe base64); only its SHA-256 is stored. ``consume``
accepts a token once, before it expires, for its purpose, and only while the user's
``auth_version`` is still the one it was made for (changing the e-mail or the password
bumps the version and so invalidates every link sent before).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from trainingmgr.accounts.models import TokenPurpose, User, UserToken
from trainingmgr.core.errors import DomainError
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.people.models import Person


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_values(
    purpose: TokenPurpose,
    lifetime: timedelta,
    *,
    user: User | None = None,
    person: Person | None = None,
    actor: User | None = None,
) -> tuple[str, dict[str, Any]]:
    """A new token and the column values of its row: for ``user``, or for a ``person`` who
    has no account yet (using a sign-in token then creates one). ``actor`` made it (None:
    the system, as for a link someone asked for on the sign-in page)."""
    token = secrets.token_urlsafe(32)
    return token, {
        "user_id": user.id if user is not None else None,
        "person_id": person.id if user is None and person is not None else None,
        "purpose": purpose,
        "token_hash": _hash(token),
        "auth_version": user.auth_version if user is not None else 0,
        "expires_at": utcnow() + lifetime,
        "created_by_id": getattr(actor, "id", None),
    }


def make_token(
    user: User,
    purpose: TokenPurpose,
    lifetime: timedelta,
    *,
    actor: User | None = None,
) -> str:
    """A new token for ``user`` (added to the session; the caller commits)."""
    token, values = token_values(purpose, lifetime, user=user, actor=actor)
    db.session.add(UserToken(**values))
    return token


def make_person_token(person: Person, lifetime: timedelta, *, actor: User | None = None) -> str:
    """A new sign-in token for a person who has no account yet (using it creates one)."""
    token, values = token_values(TokenPurpose.SIGN_IN, lifetime, person=person, actor=actor)
    db.session.add(UserToken(**values))
    return token


def insert_tokens(rows: list[dict[str, Any]]) -> None:
    """Insert many token rows (``token_values``) in one statement (the caller commits)."""
    if rows:
        db.session.execute(sa.insert(UserToken), rows)


def peek(token: str, purpose: TokenPurpose) -> UserToken:
    """The token's row if it could be used now; DomainError saying why not otherwise."""
    row = db.session.scalar(
        sa.select(UserToken).where(
            UserToken.token_hash == _hash(token or ""), UserToken.purpose == purpose
        )
    )
    if row is None:
        raise DomainError(_("This link is not valid. Ask for a new one."))
    if row.used_at is not None:
        raise DomainError(_("This link has already been used. Ask for a new one."))
    if row.expires_at <= utcnow():
        raise DomainError(_("This link has expired. Ask for a new one."))
    user = row.user
    if user is None:  # a person's first sign-in: their account does not exist yet
        person = row.person
        if person is None or person.merged_into_id is not None or not person.email:
            raise DomainError(_("This link is no longer valid. Ask for a new one."))
        return row
    if user.auth_version != row.auth_version or not user.active:
        raise DomainError(_("This link is no longer valid. Ask for a new one."))
    return row


def consume_row(token: str, purpose: TokenPurpose) -> UserToken:
    """Use the token once: its row, locked so two requests cannot both use it."""
    row = peek(token, purpose)
    locked = db.session.scalar(
        sa.select(UserToken)
        .where(UserToken.id == row.id, UserToken.used_at.is_(None))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise DomainError(_("This link has already been used. Ask for a new one."))
    locked.used_at = utcnow()
    return locked


def consume(token: str, purpose: TokenPurpose) -> User:
    """Use the token: its user, once (links for a person without an account are refused)."""
    user = consume_row(token, purpose).user
    if user is None:
        raise DomainError(_("This link is not valid. Ask for a new one."))
    return user
