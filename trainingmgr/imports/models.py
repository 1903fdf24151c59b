"""Uploaded spreadsheets waiting between the preview and the confirmation.

They are kept in the database, not on the local disk, so that every app server behind a load
balancer can read them: the preview may be served by one and the confirmation by another.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trainingmgr.core.types import UTCDateTime, utcnow
from trainingmgr.extensions import db


class PendingUpload(db.Model):
    __tablename__ = "pending_uploads"

    # Random and unguessable (``secrets.token_urlsafe(24)``); only the uploader may use it.
    token: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(sa.String(255))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
