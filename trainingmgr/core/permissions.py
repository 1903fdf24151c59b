"""Who may use which view: one decorator per view, checked for every route at start-up.

Every view function must carry exactly one of ``@public`` or ``@roles_required(...)``;
``create_app`` refuses to start if one does not, so no route is left unguarded by
accident. Administrators may use every view that a coordinator may use.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort
from flask_login import current_user

from trainingmgr.core.roles import Role
from trainingmgr.core.users import Visitor
from trainingmgr.extensions import login_manager

F = TypeVar("F", bound=Callable[..., Any])

ANY_SIGNED_IN = frozenset(Role)
FOLLOWING_ROLES = frozenset({Role.PARTICIPANT, Role.TRAINER})


def public(view: F) -> F:
    """Anyone may use this view, signed in or not."""
    view.access = "public"  # type: ignore[attr-defined]
    return view


def allowed(user: Visitor, roles: frozenset[Role]) -> bool:
    """Whether ``user`` holds one of ``roles`` (admins count as coordinators)."""
    if not getattr(user, "is_authenticated", False):
        return False
    # The stored roles first: the roles that follow from enrolments cost a query.
    held = user.stored_roles
    if Role.ADMIN in held:
        held = held | {Role.COORDINATOR}
    if held & roles:
        return True
    # Only participant and trainer follow from enrolments and sessions.
    return bool(roles & FOLLOWING_ROLES) and bool(user.roles & roles)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Only signed-in users holding one of ``roles`` may use this view (403 otherwise)."""
    wanted = frozenset(roles) if roles else ANY_SIGNED_IN

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not allowed(current_user, wanted):
                abort(403)
            return view(*args, **kwargs)

        wrapped.access = wanted  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


signed_in = roles_required()
coordinator_only = roles_required(Role.COORDINATOR)


def undeclared_endpoints(app: Flask) -> list[str]:
    """Endpoints whose view states no access rule (static files excepted)."""
    missing = []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static" or endpoint.endswith(".static"):
            continue
        if not hasattr(view, "access"):
            missing.append(endpoint)
    return sorted(missing)
