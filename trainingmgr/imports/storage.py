"""Uploaded files kept between the preview and the confirmation.

The bytes wait in the database (``pending_uploads``), which every app server shares: a
preview served by one server and a confirmation served by another find the same upload. The
token is random and unguessable; only the uploader may use it. An upload is deleted in the
same transaction as the import that uses it, and expires after a day (expired ones are
deleted at the next upload or preview).

Callers commit, as with every service.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.imports.models import PendingUpload

MAX_AGE = timedelta(days=1)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class Upload:
    token: str
    filename: str
    data: bytes
    user_id: int
    cohort_id: int | None
    uploaded_at: datetime


def save_upload(data: bytes, filename: str, *, user_id: int, cohort_id: int | None) -> Upload:
    """Keep ``data`` for a day for user ``user_id`` and return it with its new token."""
    purge_expired()
    row = PendingUpload(
        token=secrets.token_urlsafe(24),
        user_id=user_id,
        cohort_id=cohort_id,
        filename=filename[:255],
        data=data,
        uploaded_at=utcnow(),
    )
    db.session.add(row)
    db.session.flush()
    return _upload(row)


def load_upload(token: str, user_id: int | None) -> Upload:
    """The upload ``token`` of user ``user_id``.

    NotFound for a token that is malformed or another user's; DomainError when it expired or
    was already used.
    """
    if not _TOKEN.match(token or ""):
        raise NotFound(_("There is no such upload."))
    row = db.session.get(PendingUpload, token)
    if row is None:
        raise _expired()
    if row.user_id != user_id:
        raise NotFound(_("There is no such upload."))
    if utcnow() - row.uploaded_at > MAX_AGE:
        raise _expired()
    return _upload(row)


def _upload(row: PendingUpload) -> Upload:
    return Upload(row.token, row.filename, row.data, row.user_id, row.cohort_id, row.uploaded_at)


def _expired() -> DomainError:
    return DomainError(
        _("This upload has expired or was already imported. Upload the file again."), "file"
    )


def delete_upload(token: str) -> None:
    """Forget the upload ``token`` (with the import that used it: same transaction)."""
    db.session.execute(sa.delete(PendingUpload).where(PendingUpload.token == token))


def purge_expired(now: datetime | None = None) -> int:
    """Delete uploads older than ``MAX_AGE``; returns how many were deleted."""
    cutoff = (now or utcnow()) - MAX_AGE
    result = db.session.execute(sa.delete(PendingUpload).where(PendingUpload.uploaded_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
