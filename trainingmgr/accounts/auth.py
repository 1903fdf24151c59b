"""Flask-Login wiring: loading the user from the session cookie."""

from __future__ import annotations

from flask import Flask, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from trainingmgr.accounts import sessions, twofactor
from trainingmgr.accounts.models import User
from trainingmgr.core.urls import safe_next
from trainingmgr.extensions import login_manager


def load_user(session_id: str) -> User | None:
    """Session ids are "<user id>:<auth version>:<sign-in secret>" (``accounts.sessions``):
    a bumped version or an ended sign-in ends the session."""
    return sessions.resolve(session_id)


# Endpoints a sign-in waiting for its second factor may use.
OPEN_BEFORE_SECOND_FACTOR = frozenset(
    {"static", "accounts.logout", "accounts.second_factor", "accounts.two_factor_setup"}
)


def two_factor_gate() -> Response | None:
    """A sign-in without its second factor opens only the code page (or, for an account that
    must set up two-factor sign-in, the set-up page). No query: the sign-in was loaded with
    the user."""
    if request.endpoint in OPEN_BEFORE_SECOND_FACTOR or sessions.SESSION_KEY not in session:
        return None
    if not current_user.is_authenticated:
        return None
    sign_in = sessions.current()
    if sign_in is None or sign_in.second_factor_at is not None:
        return None
    target = safe_next(request.full_path.rstrip("?") if request.method == "GET" else None)
    if twofactor.enabled(current_user):
        return redirect(url_for("accounts.second_factor", next=target))
    return redirect(url_for("accounts.two_factor_setup", next=target))


def init_login(app: Flask) -> None:
    login_manager.user_loader(load_user)
    sessions.init_app(app)
    app.before_request(two_factor_gate)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
