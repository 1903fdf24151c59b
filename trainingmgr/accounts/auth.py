"""Flask-Login wiring: loading the user from the session cookie."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from trainingmgr.accounts import sessions
from trainingmgr.accounts.models import User
from trainingmgr.extensions import login_manager


def load_user(session_id: str) -> User | None:
    """Session ids are "<user id>:<auth version>:<sign-in secret>" (``accounts.sessions``):
    a bumped version or an ended sign-in ends the session."""
    return sessions.resolve(session_id)


def init_login(app: Flask) -> None:
    login_manager.user_loader(load_user)
    sessions.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
