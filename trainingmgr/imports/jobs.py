"""Large uploads, read by the worker: the page shows the progress, then the preview.

A file above ``IMPORT_WORKER_THRESHOLD_KB`` is saved as ``queued`` (``storage.save_upload``)
and read here, one file per turn of the worker, with the number of rows read written (and
committed) every ``PROGRESS_EVERY`` rows. The table is then kept with the upload, as for a
small file read at the upload.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from trainingmgr.accounts.models import User
from trainingmgr.core import jobs
from trainingmgr.extensions import db, on_postgresql
from trainingmgr.imports import storage
from trainingmgr.imports.models import PendingUpload, UploadState
from trainingmgr.imports.parsing import ImportFileError, read_table

log = logging.getLogger(__name__)


def _claim() -> PendingUpload | None:
    """The oldest queued upload, marked as being read (committed: no other worker takes it)."""
    stmt = (
        sa.select(PendingUpload)
        .where(PendingUpload.state == UploadState.QUEUED)
        .order_by(PendingUpload.uploaded_at)
        .limit(1)
    )
    if on_postgresql():
        stmt = stmt.with_for_update(skip_locked=True)
    row = db.session.scalars(stmt).first()
    if row is None:
        db.session.rollback()
        return None
    row.state = UploadState.PARSING
    row.progress = 0
    db.session.commit()
    return row


def _progress(token: str, rows: int) -> None:
    db.session.execute(
        sa.update(PendingUpload).where(PendingUpload.token == token).values(progress=rows)
    )
    db.session.commit()


@jobs.register("imports.read_uploads")
def read_queued() -> int:
    """Read one queued upload, if any; returns how many were read (0 or 1)."""
    row = _claim()
    if row is None:
        return 0
    message: str | None = None
    table = None
    token, data, filename = row.token, row.data, row.filename
    user = db.session.get(User, row.user_id)
    locale = (user.locale if user else None) or current_app.config.get("BABEL_DEFAULT_LOCALE")
    with force_locale(locale or "en"):  # the reason, in the uploader's language
        try:
            table = read_table(data, filename, progress=lambda n: _progress(token, n))
        except ImportFileError as exc:
            message = exc.message
        except Exception:  # a bug: the page says so, instead of waiting for ever
            log.exception("upload %s could not be read", token)
            db.session.rollback()
            message = _(
                "This file could not be read. Save it again as .xlsx or CSV, then upload it."
            )
    if message is None:
        assert table is not None
        storage.keep_table(token, table)
        db.session.execute(
            sa.update(PendingUpload)
            .where(PendingUpload.token == token)
            .values(progress=len(table.rows), total=len(table.rows))
        )
        db.session.commit()
        return 1
    db.session.execute(
        sa.update(PendingUpload)
        .where(PendingUpload.token == token)
        .values(state=UploadState.FAILED, message=message[:2000])
    )
    db.session.commit()
    return 1
