"""Uploaded files kept between the preview and the confirmation.

The bytes are stored in ``instance/uploads/<token>`` with a small JSON file beside them (name,
uploader, target cohort, time). The token is random and unguessable; only the uploader may
use it, and uploads expire after a day (expired ones are removed at the next upload).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from trainingmgr.core.errors import DomainError, NotFound
from trainingmgr.core.types import utcnow

MAX_AGE = timedelta(days=1)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass(frozen=True)
class Upload:
    token: str
    filename: str
    data: bytes
    user_id: int | None
    cohort_id: int | None
    uploaded_at: datetime


def upload_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _paths(token: str) -> tuple[Path, Path]:
    base = upload_dir()
    return base / token, base / f"{token}.json"


def save_upload(
    data: bytes, filename: str, *, user_id: int | None, cohort_id: int | None
) -> Upload:
    """Keep ``data`` for a day and return it with its new token."""
    purge_expired()
    token = secrets.token_urlsafe(24)
    upload = Upload(token, filename, data, user_id, cohort_id, utcnow())
    data_path, meta_path = _paths(token)
    data_path.write_bytes(data)
    meta = {
        "filename": filename,
        "user_id": user_id,
        "cohort_id": cohort_id,
        "uploaded_at": upload.uploaded_at.isoformat(),
    }
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    return upload


def load_upload(token: str, user_id: int | None) -> Upload:
    """The upload ``token`` of user ``user_id``.

    NotFound for a token that is malformed or another user's; DomainError when it expired.
    """
    if not _TOKEN.match(token or ""):
        raise NotFound(_("There is no such upload."))
    data_path, meta_path = _paths(token)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = data_path.read_bytes()
        uploaded_at = datetime.fromisoformat(meta["uploaded_at"])
    except (OSError, ValueError, KeyError):
        raise _expired() from None
    if meta.get("user_id") != user_id:
        raise NotFound(_("There is no such upload."))
    if utcnow() - uploaded_at > MAX_AGE:
        delete_upload(token)
        raise _expired()
    return Upload(
        token, meta.get("filename") or "", data, user_id, meta.get("cohort_id"), uploaded_at
    )


def _expired() -> DomainError:
    return DomainError(
        _("This upload has expired or was already imported. Upload the file again."), "file"
    )


def delete_upload(token: str) -> None:
    if _TOKEN.match(token or ""):
        for path in _paths(token):
            path.unlink(missing_ok=True)


def purge_expired(now: datetime | None = None) -> int:
    """Remove uploads older than ``MAX_AGE``; returns how many were removed."""
    cutoff = (now or utcnow()) - MAX_AGE
    removed = 0
    for path in upload_dir().iterdir():
        if not _TOKEN.match(path.name.removesuffix(".json")):
            continue
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=cutoff.tzinfo)
        if modified < cutoff:
            path.unlink(missing_ok=True)
            removed += not path.name.endswith(".json")
    return removed
