"""The outbox: every e-mail is a row written in the same transaction as its cause.

A worker (``flask --app app worker``, or the in-process one of ``make run``) delivers pending
rows with retries and backoff; on PostgreSQL several workers lock rows with SKIP LOCKED so no
message is sent twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trainingmgr.core.types import Choice, UTCDateTime, str_enum, utcnow
from trainingmgr.extensions import db


class OutboxStatus(Choice):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        sa.Index("ix_outbox_messages_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Template name: sign_in_link, enrolment_confirmation, session_changed, ...
    kind: Mapped[str] = mapped_column(sa.String(40))
    recipient: Mapped[str] = mapped_column(sa.String(254), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    # The whole RFC 5322 message (both parts and attachments), built when queued; or None
    # until the worker writes it from ``render_args`` (messages of bulk changes, see
    # ``trainingmgr.mail.deferred``).
    message: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    render_args: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who and what it is about (for the coordinators' log, scoped by programme).
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    programme_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="SET NULL"), index=True
    )
    cohort_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="SET NULL"), index=True
    )
