"""Reading an uploaded file (an image, a font) within its size limit."""

from __future__ import annotations

from typing import IO, Any

from trainingmgr.core.errors import DomainError


def read_limited(upload: bytes | IO[bytes] | Any, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``upload`` (bytes, a file or a werkzeug FileStorage)."""
    if isinstance(upload, bytes | bytearray | memoryview):
        return bytes(upload[: limit + 1])
    stream = getattr(upload, "stream", upload)
    return stream.read(limit + 1)


def read_upload(
    upload: bytes | IO[bytes] | Any,
    limit: int,
    field: str | None,
    *,
    empty: str,
    too_large: str,
) -> bytes:
    """The upload's bytes; ``DomainError`` (on ``field``) with the message ``empty`` when
    there are none, ``too_large`` when there are more than ``limit``."""
    data = read_limited(upload, limit)
    if not data:
        raise DomainError(empty, field)
    if len(data) > limit:
        raise DomainError(too_large, field)
    return data
