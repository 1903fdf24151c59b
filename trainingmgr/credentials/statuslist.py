"""Bitstring Status List (W3C): revoking a certificate flips its credential's bit.

A certificate's index is its id; list ``n`` holds ids ``n * SIZE`` to ``(n + 1) * SIZE - 1``
(SIZE = 131,072 bits, the specification's minimum, so a list does not tell how many
certificates exist). The list is GZIP-compressed, base64url-encoded without padding and
prefixed ``u`` (multibase), the first index being the most significant bit of the first byte.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable

SIZE = 131_072


def position(certificate_id: int) -> tuple[int, int]:
    """(list number, index in the list) of a certificate."""
    return divmod(certificate_id, SIZE)


def encode(indexes: Iterable[int], size: int = SIZE) -> str:
    bits = bytearray(size // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode(encoded: str) -> bytes:
    """The bits of an ``encodedList`` (ValueError when it is not one)."""
    if not encoded.startswith("u"):
        raise ValueError("encodedList is not base64url multibase")
    text = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def is_set(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise ValueError("statusListIndex is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))
