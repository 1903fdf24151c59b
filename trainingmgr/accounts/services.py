"""Account operations: creating users, checking passwords, signing in, setting passwords by
invitation or reset link, and changing them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from trainingmgr.accounts import tokens
from trainingmgr.accounts.models import Role, TokenPurpose, User, UserRole, UserToken
from trainingmgr.accounts.passwords import check_password_policy
from trainingmgr.audit import services as audit
from trainingmgr.core.errors import DomainError
from trainingmgr.core.types import utcnow
from trainingmgr.core.urls import external_url
from trainingmgr.extensions import db

# Password reset links are good for this long; invitations for INVITATION_DAYS.
PASSWORD_RESET_MINUTES = 60
INVITATION_DAYS = 7
# A hash to compare against when the account does not exist, so a wrong e-mail costs
# as much time as a wrong password and timing does not reveal which accounts exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    """Hash with werkzeug's current default (scrypt)."""
    return generate_password_hash(password)


def check_password_strength(password: str, email: str | None = None) -> None:
    """DomainError (field "password") unless ``password`` meets the policy
    (see ``accounts.passwords``)."""
    check_password_policy(password, email)


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def display_timezone(user: Any = None) -> str:
    """The time zone to show times in to ``user``: their own, else the organisation's."""
    own = getattr(user, "timezone", None)
    if own:
        return str(own)
    from trainingmgr.organisation.models import OrganisationSettings

    default = db.session.scalar(
        sa.select(OrganisationSettings.default_timezone).where(OrganisationSettings.id == 1)
    )
    return default or current_app.config.get("DEFAULT_TIMEZONE") or "UTC"


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
    """Create an account with ``roles``. Raises DomainError if the e-mail is taken.

    ``actor`` is who creates it; None: the system (``flask create-user``, the demo data, an
    account made by the first use of a sign-in link).
    """
    email = normalise_email(email)
    if not email or "@" not in email:
        raise DomainError(_("Enter a valid e-mail address."), "email")
    if get_user_by_email(email) is not None:
        raise DomainError(
            _("An account with the e-mail %(email)s already exists.", email=email), "email"
        )
    role_set = {Role(r) for r in roles}
    # A person's account may have no stored role: theirs follow from what they do.
    if not role_set and person_id is None:
        raise DomainError(_("Give the account at least one role."), "roles")
    if password is not None and check_strength:
        check_password_strength(password, email)
    user = User(
        email=email,
        display_name=display_name,
        password_hash=hash_password(password) if password else None,
        person_id=person_id,
        role_rows=[UserRole(role=r) for r in sorted(role_set)],
    )
    audit.record_created(
        "user.create",
        user,
        actor=actor,
        changes={"email": [None, email], "roles": [None, sorted(r.value for r in role_set)]},
    )
    return user


def _record_unknown(action: str, user: User | None, email: str, ip: str | None) -> None:
    """Audit ``action`` for an e-mail address with no usable account (``user`` if any)."""
    audit.record(
        action,
        object_type="users",
        object_id=getattr(user, "id", None),
        summary=normalise_email(email)[:200],
        ip=ip,
    )


def authenticate(email: str, password: str, ip: str | None = None) -> User | None:
    """The active user with this e-mail and password, or None. Audits both outcomes.

    The caller commits (so the audit event and last sign-in time are written).
    """
    user = get_user_by_email(email)
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        _record_unknown("auth.sign_in_failed", user, email, ip)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        audit.record("auth.sign_in_failed", obj=user, summary=user.email, ip=ip)
        return None
    user.last_login_at = utcnow()
    audit.record("auth.sign_in", actor=user, obj=user, ip=ip)
    return user


# --------------------------------------------------------------------------- passwords


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password (checked against the policy). The auth version is bumped:
    the user's other sessions end and every link e-mailed before stops working."""
    check_password_strength(password, user.email)
    user.password_hash = hash_password(password)
    user.auth_version = (user.auth_version or 0) + 1


def change_password(user: User, current: str, new: str, *, ip: str | None = None) -> None:
    """A signed-in user changes their password; the current one is required."""
    if not user.password_hash or not check_password_hash(user.password_hash, current):
        raise DomainError(_("The current password is not correct."), "current_password")
    if current == new:
        raise DomainError(_("Choose a password different from the current one."), "password")
    set_password(user, new)
    audit.record("auth.password_changed", actor=user, obj=user, ip=ip)


def sign_out_everywhere(user: User, *, ip: str | None = None) -> int:
    """End every sign-in of ``user`` on every device (this one too) and every link e-mailed
    before; returns how many sign-ins were open. The caller commits."""
    from trainingmgr.accounts import sessions

    ended = sessions.end_all(user)
    user.auth_version = (user.auth_version or 0) + 1
    audit.record(
        "auth.sign_out_everywhere", actor=user, obj=user, ip=ip, changes={"sign_ins": [ended, 0]}
    )
    return ended


def request_password_reset(email: str, *, ip: str | None = None) -> bool:
    """E-mail a reset link if an active account has this address (True then).

    The caller shows the same message whatever the answer, so nobody learns from it which
    addresses have accounts.
    """
    user = get_user_by_email(email)
    if user is None or not user.active:
        _record_unknown("auth.password_reset_requested", user, email, ip)
        return False
    token = tokens.make_token(
        user, TokenPurpose.PASSWORD_RESET, timedelta(minutes=PASSWORD_RESET_MINUTES)
    )
    from trainingmgr.mail import services as mail

    mail.send(
        "password_reset",
        mail.user_address(user),
        {
            "user": user,
            "url": external_url("accounts.password_reset", token=token),
            "minutes": PASSWORD_RESET_MINUTES,
        },
        locale=user.locale,
        user_id=user.id,
    )
    audit.record("auth.password_reset_requested", obj=user, summary=user.email, ip=ip)
    return True


def _use_link(token: str, purpose: TokenPurpose) -> User:
    """Use up the link and lock its user's row. Two links of the same user used at the same
    moment (two invitations sent) cannot both set a password: the second finds the auth
    version changed once it gets the lock."""
    version = tokens.peek(token, purpose).auth_version
    user = tokens.consume(token, purpose)
    locked = db.session.scalar(
        sa.select(User)
        .where(User.id == user.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if locked is None or locked.auth_version != version or not locked.active:
        raise DomainError(_("This link is no longer valid. Ask for a new one."))
    return locked


def reset_password(token: str, password: str, *, ip: str | None = None) -> User:
    """Use a reset link: set the new password (the link is used up only if it is accepted)."""
    row = tokens.peek(token, TokenPurpose.PASSWORD_RESET)
    user = _set_password_by_link(token, TokenPurpose.PASSWORD_RESET, row.user.email, password)
    audit.record("auth.password_reset", actor=user, obj=user, ip=ip)
    audit.record("auth.sign_in", actor=user, obj=user, ip=ip, summary="password reset link")
    return user


def _set_password_by_link(token: str, purpose: TokenPurpose, email: str, password: str) -> User:
    """Set the password chosen through a reset link or an invitation, checked (against
    ``email``, the account's) before the link is used up; the account signs in with it."""
    check_password_policy(password, email)
    user = _use_link(token, purpose)
    set_password(user, password)
    user.last_login_at = utcnow()
    return user


# --------------------------------------------------------------------------- invitations


def invitation_for(token: str) -> UserToken:
    """The invitation's token row if ``token`` can be used now (DomainError saying why not)."""
    row = tokens.peek(token, TokenPurpose.INVITATION)
    if row.user.password_hash:
        raise DomainError(_("This invitation has already been accepted. Sign in instead."))
    return row


def inviter_of(row: UserToken) -> User | None:
    return db.session.get(User, row.created_by_id) if row.created_by_id else None


def accept_invitation(token: str, password: str, *, ip: str | None = None) -> User:
    """Accept an invitation: the password is set and the link used up (only if accepted)."""
    email = invitation_for(token).user.email
    user = _set_password_by_link(token, TokenPurpose.INVITATION, email, password)
    audit.record("user.invitation_accepted", actor=user, obj=user, ip=ip)
    audit.record("auth.sign_in", actor=user, obj=user, ip=ip, summary="invitation")
    return user
