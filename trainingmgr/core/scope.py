"""Programme scope: which programmes a coordinator may see and change.

Administrators see everything. A coordinator sees the programmes they are assigned to
(``coordinator_programmes``), and through them those programmes' cohorts, enrolled people,
attendance and certificates. Views load objects through these checks and answer 404 for an
object outside the user's scope (its existence is not revealed).
"""

from __future__ import annotations

from typing import Any

from flask import abort
from flask_login import current_user

from trainingmgr.accounts.models import Role


def managed_programme_ids(user: Any = None) -> set[int] | None:
    """The ids of the programmes ``user`` coordinates; ``None`` means all (an admin)."""
    user = current_user if user is None else user
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.has_role(Role.ADMIN):
        return None
    if not user.has_role(Role.COORDINATOR):
        return set()
    return {p.id for p in user.programmes}


def can_manage_programme(programme_id: int | None, user: Any = None) -> bool:
    ids = managed_programme_ids(user)
    return ids is None or (programme_id is not None and programme_id in ids)


def require_programme(programme_id: int | None, user: Any = None) -> None:
    """404 unless ``user`` (default: the current user) may manage the programme."""
    if not can_manage_programme(programme_id, user):
        abort(404)
