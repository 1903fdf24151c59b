"""Files that are written to and sent piece by piece (ZIP archives streamed as made)."""

from __future__ import annotations


class ChunkSink:
    """A write-only file for ``zipfile``: keeps what was written until ``take()``.

    It has no ``seek``/``tell``, so ``zipfile`` writes each entry's sizes after its data
    (a data descriptor) and never goes back: the archive can be sent as it is made.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        """What was written since the last call, removed from the sink."""
        data = b"".join(self._parts)
        self._parts.clear()
        return data
