"""Reading an uploaded file (a logo, a font) with a size limit."""

from __future__ import annotations

from typing import IO, Any

from trainingmgr.core.errors import DomainError


def read_upload(
    upload: bytes | IO[bytes] | Any,
    limit: int,
    field: str | None,
    *,
    empty: str,
    too_large: str,
) -> bytes:
    """The bytes of ``upload`` (bytes, a file or a werkzeug FileStorage), reading at most
    ``limit + 1``; ``DomainError`` on ``field`` with ``empty`` or ``too_large`` otherwise."""
    if isinstance(upload, bytes | bytearray | memoryview):
        data = bytes(upload[: limit + 1])
    else:
        data = getattr(upload, "stream", upload).read(limit + 1)
    if not data:
        raise DomainError(empty, field)
    if len(data) > limit:
        raise DomainError(too_large, field)
    return data
