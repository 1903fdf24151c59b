"""Flask-Login wiring: loading the user from the session cookie."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from trainingmgr.accounts.models import User
from trainingmgr.extensions import db, login_manager


def load_user(session_id: str) -> User | None:
    """Session ids are "<user id>:<auth version>"; a bumped version ends old sessions."""
    try:
        user_id, version = (int(part) for part in session_id.split(":", 1))
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, user_id)
    if user is None or user.auth_version != version or not user.active:
        return None
    return user


def init_login(app: Flask) -> None:
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
