"""Uploaded spreadsheets waiting between the preview and the confirmation.

They are kept in the database, not on the local disk, so that every app server behind a load
balancer can read them: the preview may be served by one and the confirmation by another.
The file is parsed once (at the upload, or by the worker for a large file) and the table read
from it is kept beside it (``parsed``): the preview and the confirmation reuse it.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trainingmgr.core.types import UTCDateTime, utcnow
from trainingmgr.extensions import db


class UploadState(enum.StrEnum):
    QUEUED = "queued"  # a large file, waiting for the worker to read it
    PARSING = "parsing"  # the worker is reading it (``progress`` rows so far)
    READY = "ready"  # read: ``parsed`` holds the table
    FAILED = "failed"  # unreadable: ``message`` says why
    IMPORTED = "imported"  # confirmed: ``message`` is the summary; the bytes are dropped


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
    state: Mapped[str] = mapped_column(
        sa.String(16), default=UploadState.READY, server_default=UploadState.READY.value
    )
    # The table read from the file (``storage.pack_table``: compressed JSON), for ``sheet``.
    parsed: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    sheet: Mapped[str | None] = mapped_column(sa.String(255))
    # The rows cleaned with the mapping of the last preview, and what they depend on
    # (``services.cleaning_key``): the confirmation reuses them.
    cleaned: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    cleaned_key: Mapped[str | None] = mapped_column(sa.String(64))
    # What the coordinator chose on the preview (columns, sheet, possible duplicates), as
    # JSON: the preview is posted, kept, then shown again (Back and reload keep it).
    choices: Mapped[str | None] = mapped_column(sa.Text)
    # Rows read so far by the worker, of about ``total`` (None: not known yet).
    progress: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    total: Mapped[int | None] = mapped_column(sa.Integer)
    message: Mapped[str | None] = mapped_column(sa.Text)
