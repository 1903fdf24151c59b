"""Recording audit events. Callers commit; the event is part of their transaction."""

from __future__ import annotations

from typing import Any

from trainingmgr.audit.models import AuditEvent
from trainingmgr.extensions import db


def record(
    action: str,
    *,
    actor: Any = None,
    obj: Any = None,
    object_type: str | None = None,
    object_id: int | None = None,
    programme_id: int | None = None,
    changes: dict[str, Any] | None = None,
    summary: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller's commit writes it)."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    actor_id = getattr(actor, "id", None) if actor is not None else None
    if actor_id is not None and not getattr(actor, "is_authenticated", True):
        actor_id = None
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        object_type=object_type or "",
        object_id=object_id,
        programme_id=programme_id,
        changes=changes or {},
        summary=summary[:500],
        ip=ip,
    )
    db.session.add(event)
    return event
