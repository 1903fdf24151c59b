"""Server-side sessions: every sign-in is a row (``SignIn``) the cookie must match.

Flask's session cookie is signed but kept by the browser; alone, it stays valid until it
expires, after a sign-out too. Here the user id stored in it (Flask-Login's ``_user_id``,
also the content of the remember-me cookie) names a ``SignIn`` row by a random secret:

- signing in (any way: password, e-mailed link, invitation, password reset) creates the row
  (``user_logged_in`` signal), so every sign-in path is covered without its own code;
- signing out ends the row: the same cookie, copied before, no longer opens anything;
- a password change, a deactivation and "sign out everywhere" end every row of the user;
- a row expires: after ``REMEMBER_DAYS`` (default 30) with "keep me signed in", else after
  ``SESSION_HOURS`` (default 12).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request, session
from flask_login import user_logged_in
from sqlalchemy.orm import joinedload

from trainingmgr.accounts import roles, twofactor
from trainingmgr.accounts.models import SignIn, User, coordinator_programmes
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.organisation.models import SETTINGS_ID, OrganisationSettings
from trainingmgr.organisation.services import remember_settings

SESSION_KEY = "_user_id"  # Flask-Login's


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(user: User, *, remember: bool = False) -> str:
    """Record a new sign-in of ``user`` and return the id its cookies carry."""
    secret = secrets.token_urlsafe(24)
    config = current_app.config
    lifetime = (
        timedelta(days=int(config.get("REMEMBER_DAYS", 30)))
        if remember
        else timedelta(hours=int(config.get("SESSION_HOURS", 12)))
    )
    ip = agent = None
    if has_request_context():
        ip = (request.remote_addr or "")[:45] or None
        agent = (request.user_agent.string or "")[:200] or None
    now = utcnow()
    row = SignIn(
        user_id=user.id,
        secret_hash=_hash(secret),
        created_at=now,
        expires_at=now + lifetime,
        # Complete at once, unless the account has (or must set up) two-factor sign-in.
        second_factor_at=None if twofactor.enabled(user) or twofactor.required(user) else now,
        remember=remember,
        ip=ip,
        user_agent=agent,
    )
    db.session.add(row)
    db.session.flush()
    if has_request_context():
        g.sign_in = row
    return f"{user.id}:{user.auth_version}:{secret}"


def complete() -> bool:
    """Whether this request's sign-in has all its factors (no sign-in: True)."""
    sign_in = current()
    return sign_in is None or sign_in.second_factor_at is not None


def _parse(session_id: str | None) -> tuple[int, int, str] | None:
    try:
        user_id, version, secret = (session_id or "").split(":", 2)
        return int(user_id), int(version), secret
    except (ValueError, AttributeError):
        return None


def _programme_ids() -> sa.ScalarSelect[Any]:
    """SQL: the ids of the programmes the user coordinates, as "1,2" (None: none)."""
    column = coordinator_programmes.c.programme_id
    return (
        sa.select(sa.func.aggregate_strings(sa.cast(column, sa.String), ","))
        .where(coordinator_programmes.c.user_id == User.id)
        .scalar_subquery()
    )


@cache
def _resolve_statement() -> sa.Select[Any]:
    """The sign-in's one query, built once (every request runs it; building it cost a third
    of its time): the user, the sign-in, the derived roles, the coordinated programmes and
    the organisation's settings."""
    return (
        sa.select(
            User,
            SignIn,
            roles.participant_condition(User.person_id),
            roles.trainer_condition(User.person_id),
            OrganisationSettings,
            _programme_ids(),
        )
        .join(SignIn, SignIn.user_id == User.id)
        .outerjoin(OrganisationSettings, OrganisationSettings.id == SETTINGS_ID)
        .options(joinedload(User.person), joinedload(User.role_rows))
        .where(
            User.id == sa.bindparam("user_id"),
            SignIn.secret_hash == sa.bindparam("secret_hash"),
            SignIn.ended_at.is_(None),
            SignIn.expires_at > sa.bindparam("now"),
        )
    )


def resolve(session_id: str) -> User | None:
    """The user of a cookie's id, if that sign-in is still open (one query, which also loads
    what nearly every page then asks: the user's person, stored roles, derived roles and
    coordinated programmes, and the organisation's settings)."""
    parsed = _parse(session_id)
    if parsed is None or not parsed[2]:
        return None
    user_id, version, secret = parsed
    row = (
        db.session.execute(
            _resolve_statement(),
            {"user_id": user_id, "secret_hash": _hash(secret), "now": utcnow()},
        )
        .unique()
        .one_or_none()
    )  # all of the user's role rows (one row per role)
    if row is None:
        return None
    user, sign_in, participant, trainer, settings, programme_ids = row
    if user.auth_version != version or not user.active:
        return None
    user.remember_programme_ids(int(i) for i in (programme_ids or "").split(",") if i)
    roles.remember(user.person_id, bool(participant), bool(trainer))
    g.sign_in = sign_in  # for the two-factor gate (accounts.auth)
    remember_settings(settings)  # the footer and the time zone read them on every page
    return user


def current() -> SignIn | None:
    """The sign-in of this request's user (after Flask-Login loaded them)."""
    return g.get("sign_in")


def end(session_id: str | None) -> None:
    """End the sign-in named by ``session_id`` (signing out). The caller commits."""
    parsed = _parse(session_id)
    if parsed is None:
        return
    db.session.execute(
        sa.update(SignIn)
        .where(SignIn.user_id == parsed[0], SignIn.secret_hash == _hash(parsed[2]))
        .values(ended_at=utcnow())
    )


def end_all(user: User) -> int:
    """End every open sign-in of ``user``; returns how many. The caller commits."""
    result = db.session.execute(
        sa.update(SignIn)
        .where(SignIn.user_id == user.id, SignIn.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def open_count(user: User) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(SignIn.id)).where(
                SignIn.user_id == user.id,
                SignIn.ended_at.is_(None),
                SignIn.expires_at > utcnow(),
            )
        )
        or 0
    )


def _on_sign_in(_app: Any, user: User, **_extra: Any) -> None:
    """After ``login_user``: the cookie carries a new server-side sign-in, and a fresh CSRF
    token (a token seen before signing in is no longer accepted)."""
    session[SESSION_KEY] = start(user, remember=session.get("_remember") == "set")
    session.pop("csrf_token", None)
    # Committed here, whatever the sign-in path: the next request must find the row. (Every
    # view signs in after committing its own work, so nothing half-done is committed.)
    db.session.commit()


def init_app(app: Flask) -> None:
    user_logged_in.connect(_on_sign_in, app)
