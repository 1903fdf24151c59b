"""Uploaded files kept between the preview and the confirmation, with the table read from them.

The bytes wait in the database (``pending_uploads``), which every app server shares: a
preview served by one server and a confirmation served by another find the same upload. The
token is random and unguessable; only the uploader may use it.

Each file is read once: at the upload (or by the worker, for a file above
``IMPORT_WORKER_THRESHOLD_KB``: ``imports.jobs``), and the table read from it is kept
beside it, packed (``pack_table``); the preview and the confirmation reuse it. Choosing
another sheet of a workbook reads that sheet and keeps it instead.

A confirmed upload is kept without its bytes, with the summary of what was imported, until it
expires: Back and reload find it and say so. Uploads expire after a day (expired ones are
deleted at the next upload).

Callers commit, as with every service.
"""

from __future__ import annotations

import json
import re
import secrets
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.imports.models import PendingUpload, UploadState
from trainingmgr.imports.parsing import SourceRow, Table, read_table

MAX_AGE = timedelta(days=1)
# A file still waiting for the worker after this long: the page says the worker may be down.
STALLED_AFTER = timedelta(minutes=5)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class Upload:
    token: str
    filename: str
    data: bytes
    user_id: int
    cohort_id: int | None
    uploaded_at: datetime
    state: UploadState = UploadState.READY
    table: Table | None = None  # the table read from the file, once it was read
    progress: int = 0
    total: int | None = None
    message: str | None = None  # why it could not be read, or what was imported
    # The rows cleaned by the last preview, with what they depend on (``services``).
    cleaned: tuple[str, list[list[Any]]] | None = None
    choices: dict[str, Any] = field(default_factory=dict)  # the preview's (``keep_choices``)

    @property
    def waiting(self) -> bool:
        """Whether the worker has yet to read the file."""
        return self.state in (UploadState.QUEUED, UploadState.PARSING)

    @property
    def stalled(self) -> bool:
        """Whether the file has waited for the worker unusually long."""
        return self.waiting and utcnow() - self.uploaded_at > STALLED_AFTER

    @property
    def percent(self) -> int | None:
        """How far the worker is, when the number of rows is known."""
        if not self.total:
            return None
        return max(0, min(99, self.progress * 100 // self.total))


# --- the table, packed --------------------------------------------------------------------


def pack_table(table: Table) -> bytes:
    """The table as compressed JSON (a 5,000-row file: about 100 KB, packed in a few ms)."""
    doc = {
        "kind": table.kind,
        "headers": table.headers,
        "rows": [[r.line, *r.cells] for r in table.rows],
        "header_line": table.header_line,
        "encoding": table.encoding,
        "delimiter": table.delimiter,
        "sheet": table.sheet,
        "sheets": table.sheets,
    }
    return _pack(doc)


def unpack_table(packed: bytes) -> Table:
    doc = _unpack(packed)
    return Table(
        kind=doc["kind"],
        headers=doc["headers"],
        rows=[SourceRow(r[0], tuple(r[1:])) for r in doc["rows"]],
        header_line=doc["header_line"],
        encoding=doc["encoding"],
        delimiter=doc["delimiter"],
        sheet=doc["sheet"],
        sheets=doc["sheets"],
    )


# --- uploads ------------------------------------------------------------------------------


def save_upload(
    data: bytes,
    filename: str,
    *,
    user_id: int,
    cohort_id: int | None,
    table: Table | None = None,
    queued: bool = False,
    total: int | None = None,
) -> Upload:
    """Keep ``data`` for a day for user ``user_id`` and return it with its new token.

    ``table`` is what was read from it; ``queued`` leaves the reading to the worker (about
    ``total`` rows, when known).
    """
    purge_expired()
    row = PendingUpload(
        token=secrets.token_urlsafe(24),
        user_id=user_id,
        cohort_id=cohort_id,
        filename=filename[:255],
        data=data,
        uploaded_at=utcnow(),
        state=UploadState.QUEUED if queued else UploadState.READY,
        progress=0,
        total=total,
    )
    if table is not None:
        row.parsed, row.sheet = pack_table(table), table.sheet
    db.session.add(row)
    db.session.flush()
    return _upload(row)


def estimated_rows(data: bytes) -> int | None:
    """About how many rows a file has: its lines for a CSV file; unknown for a workbook."""
    if data.startswith(b"PK"):
        return None
    return data.count(b"\n") or None


def accept_upload(
    data: bytes, filename: str, *, user_id: int, cohort_id: int | None, threshold: int
) -> Upload:
    """Keep an uploaded file: read now when it is at most ``threshold`` bytes (an unreadable
    file is refused with ``ImportFileError`` and not kept), else left to the worker."""
    if len(data) > threshold:
        return save_upload(
            data,
            filename,
            user_id=user_id,
            cohort_id=cohort_id,
            queued=True,
            total=estimated_rows(data),
        )
    table = read_table(data, filename)
    return save_upload(data, filename, user_id=user_id, cohort_id=cohort_id, table=table)


def load_upload(token: str, user_id: int | None) -> Upload:
    """The upload ``token`` of user ``user_id``, in whatever state it is.

    NotFound for a token that is malformed or another user's; DomainError when it expired.
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
    return Upload(
        row.token,
        row.filename,
        row.data,
        row.user_id,
        row.cohort_id,
        row.uploaded_at,
        UploadState(row.state or UploadState.READY),
        unpack_table(row.parsed) if row.parsed else None,
        row.progress or 0,
        row.total,
        row.message,
        (row.cleaned_key or "", _unpack(row.cleaned)) if row.cleaned else None,
        json.loads(row.choices) if row.choices else {},
    )


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False).encode(), 1)


def _unpack(packed: bytes) -> Any:
    return json.loads(zlib.decompress(packed))


def keep_choices(token: str, choices: dict[str, Any]) -> None:
    """Keep what the coordinator chose on the preview (shown again by the next preview)."""
    db.session.execute(
        sa.update(PendingUpload)
        .where(PendingUpload.token == token)
        .values(choices=json.dumps(choices, ensure_ascii=False))
    )


def keep_cleaned(token: str, cleaned: tuple[str, list[list[Any]]]) -> None:
    """Keep the rows cleaned by a preview (and what they depend on) for the confirmation."""
    db.session.execute(
        sa.update(PendingUpload)
        .where(PendingUpload.token == token)
        .values(cleaned_key=cleaned[0], cleaned=_pack(cleaned[1]))
    )


def _expired() -> DomainError:
    return DomainError(
        _("This upload has expired or was already imported. Upload the file again."), "file"
    )


def keep_table(token: str, table: Table) -> None:
    """Keep ``table`` (another sheet, or a file read late) as the upload's table."""
    db.session.execute(
        sa.update(PendingUpload)
        .where(PendingUpload.token == token)
        .values(
            parsed=pack_table(table),
            sheet=table.sheet,
            state=UploadState.READY,
            cleaned=None,
            cleaned_key=None,
        )
    )


def mark_imported(token: str, summary: str) -> None:
    """The upload was imported (same transaction): forget its bytes, keep what was done."""
    db.session.execute(
        sa.update(PendingUpload)
        .where(PendingUpload.token == token)
        .values(
            state=UploadState.IMPORTED,
            data=b"",
            parsed=None,
            cleaned=None,
            message=summary[:2000],
        )
    )


def delete_upload(token: str) -> None:
    """Forget the upload ``token``."""
    db.session.execute(sa.delete(PendingUpload).where(PendingUpload.token == token))


def purge_expired(now: datetime | None = None) -> int:
    """Delete uploads older than ``MAX_AGE``; returns how many were deleted."""
    cutoff = (now or utcnow()) - MAX_AGE
    result = db.session.execute(sa.delete(PendingUpload).where(PendingUpload.uploaded_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
