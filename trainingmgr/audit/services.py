"""Recording audit events. Callers commit; the event is part of their transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.orm import ORMExecuteState, Session

from trainingmgr.audit.models import AuditEvent
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User


def record(
    action: str,
    *,
    actor: User | None = None,
    obj: Any = None,
    object_type: str | None = None,
    object_id: int | None = None,
    programme_id: int | None = None,
    changes: dict[str, Any] | None = None,
    summary: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session (the caller's commit writes it).

    ``actor`` is the user who acted; None when nobody signed in acted: the system (the CLI,
    the worker) or an anonymous request (a failed sign-in).
    """
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


def record_created(action: str, obj: Any, **details: Any) -> AuditEvent:
    """Add the new ``obj`` to the session, flush it (for its id) and record ``action`` on it.

    ``details`` are the other arguments of ``record`` (actor, programme_id, changes, summary...).
    """
    db.session.add(obj)
    db.session.flush()
    return record(action, obj=obj, **details)


def record_many(events: Sequence[dict[str, Any]], **common: Any) -> None:
    """Add many audit events in one INSERT (issuing a cohort's certificates, an import): the
    same events as ``record`` called for each. Each event is a dict of ``record``'s arguments;
    ``common`` gives those shared by every event (``action``, ``actor``, ``object_type``,
    ``programme_id``, ``ip``). No ``AuditEvent`` objects are made, so none is returned."""
    rows = []
    now = utcnow()
    for own in events:
        event = {**common, **own}
        obj = event.get("obj")
        actor = event.get("actor")
        actor_id = getattr(actor, "id", None) if actor is not None else None
        if actor_id is not None and not getattr(actor, "is_authenticated", True):
            actor_id = None
        rows.append(
            {
                "at": now,
                "action": event["action"],
                "actor_id": actor_id,
                "object_type": event.get("object_type") or (obj.__tablename__ if obj else ""),
                "object_id": event.get("object_id", obj.id if obj is not None else None),
                "programme_id": event.get("programme_id"),
                "changes": event.get("changes") or {},
                "summary": str(event.get("summary") or "")[:500],
                "ip": event.get("ip"),
            }
        )
    if rows:
        db.session.execute(sa.insert(AuditEvent), rows)


def jsonable(value: Any) -> Any:
    """A value as it is kept in an event's ``changes`` (enums by value, dates in ISO format)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def apply_values(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``values`` on ``obj``; return ``{field: [old, new]}`` for those that changed."""
    changes: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changes[name] = [jsonable(old), jsonable(new)]
            setattr(obj, name, new)
    return changes


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields of ``after`` whose value differs from ``before``."""
    return {
        key: [jsonable(before.get(key)), jsonable(value)]
        for key, value in after.items()
        if jsonable(before.get(key)) != jsonable(value)
    }


def record_changes(
    action: str, before: dict[str, Any], after: dict[str, Any], **details: Any
) -> AuditEvent | None:
    """Record ``action`` with the fields that changed from ``before`` to ``after``, if any.

    ``details`` are the other arguments of ``record`` (actor, obj, programme_id, summary...).
    """
    changes = changed_fields(before, after)
    return record(action, changes=changes, **details) if changes else None


# --- The trail is append-only ---------------------------------------------------------------


class AuditTrailIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete a recorded audit event."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Audit events cannot be {what}: the audit trail is append-only "
            "(record a new event instead)."
        )


def _refuse_changed_events(session: Session, _context: Any, _instances: Any) -> None:
    """Before a flush: no deleted or modified ``AuditEvent`` may reach the database."""
    for obj in session.deleted:
        if isinstance(obj, AuditEvent):
            raise AuditTrailIsAppendOnly("deleted")
    for obj in session.dirty:
        if isinstance(obj, AuditEvent) and session.is_modified(obj, include_collections=False):
            raise AuditTrailIsAppendOnly("changed")


def _refuse_bulk_statements(state: ORMExecuteState) -> None:
    """``session.execute(update(AuditEvent)...)`` and ``delete(AuditEvent)`` are refused too."""
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditEvent.__tablename__:
        raise AuditTrailIsAppendOnly("changed" if state.is_update else "deleted")


def protect_audit_trail() -> None:
    """Refuse, in every ORM session, to update or delete audit events (idempotent).

    Raw SQL on a connection is not covered (maintenance scripts, test clean-up); a database
    role without UPDATE/DELETE rights on ``audit_events`` would close that gap in production.
    """
    if not sa_event.contains(Session, "before_flush", _refuse_changed_events):
        sa_event.listen(Session, "before_flush", _refuse_changed_events)
    if not sa_event.contains(Session, "do_orm_execute", _refuse_bulk_statements):
        sa_event.listen(Session, "do_orm_execute", _refuse_bulk_statements)
