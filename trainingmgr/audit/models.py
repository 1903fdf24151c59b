"""Audit events are appended, never edited or deleted by the application."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainingmgr.core.types import UTCDateTime, utcnow
from trainingmgr.extensions import db

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_object", "object_type", "object_id"),
        sa.Index("ix_audit_events_at", "at"),
        # The trail's filters, newest first, read in index order whatever the number of
        # events (a rare action or a quiet programme among 200,000 events).
        sa.Index("ix_audit_events_action_at", "action", "at"),
        sa.Index("ix_audit_events_programme_id_at", "programme_id", "at"),
        sa.Index("ix_audit_events_actor_id_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(sa.String(60))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int | None]
    programme_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="SET NULL")
    )
    # {"field": [old, new], ...} or free details such as a reason.
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    summary: Mapped[str] = mapped_column(sa.String(500), default="")
    ip: Mapped[str | None] = mapped_column(sa.String(45))

    actor: Mapped[User | None] = relationship()
