"""Account operations: creating users, checking passwords, signing in."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from trainingmgr.accounts.models import Role, User, UserRole
from trainingmgr.audit import services as audit
from trainingmgr.core.errors import DomainError
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db

MIN_PASSWORD_LENGTH = 10
# A hash to compare against when the account does not exist, so a wrong e-mail costs
# as much time as a wrong password and timing does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    """Hash with werkzeug's current default (scrypt)."""
    return generate_password_hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.", "password"
        )


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str,
    roles: Iterable[Role | str],
    password: str | None = None,
    *,
    display_name: str = "",
    person_id: int | None = None,
    actor: User | None = None,
    check_strength: bool = True,
) -> User:
    """Create an account with ``roles``. Raises DomainError if the e-mail is taken."""
    email = normalise_email(email)
    if not email or "@" not in email:
        raise DomainError("Enter a valid e-mail address.", "email")
    if get_user_by_email(email) is not None:
        raise DomainError(f"An account with the e-mail {email} already exists.", "email")
    role_set = {Role(r) for r in roles}
    if not role_set:
        raise DomainError("Give the account at least one role.", "roles")
    if password is not None and check_strength:
        check_password_strength(password)
    user = User(
        email=email,
        display_name=display_name,
        password_hash=hash_password(password) if password else None,
        person_id=person_id,
        role_rows=[UserRole(role=r) for r in sorted(role_set)],
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        actor=actor,
        obj=user,
        changes={"email": [None, email], "roles": [None, sorted(r.value for r in role_set)]},
    )
    return user


def authenticate(email: str, password: str, ip: str | None = None) -> User | None:
    """The active user with this e-mail and password, or None. Audits both outcomes.

    The caller commits (so the audit event and last sign-in time are written).
    """
    user = get_user_by_email(email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        audit.record(
            "auth.sign_in_failed",
            object_type="users",
            summary=normalise_email(email)[:200],
            ip=ip,
        )
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        audit.record("auth.sign_in_failed", obj=user, summary=user.email, ip=ip)
        return None
    user.last_login_at = utcnow()
    audit.record("auth.sign_in", actor=user, obj=user, ip=ip)
    return user
