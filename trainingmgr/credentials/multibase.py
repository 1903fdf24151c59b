"""Multibase (base58btc, ``z...``) and Multikey encodings of Ed25519 keys.

Written from the Multibase and Multikey definitions of the W3C Controlled Identifiers
specification: an Ed25519 public key is ``0xed 0x01`` followed by its 32 bytes, a private key
``0x80 0x26`` followed by its 32-byte seed, both base58btc-encoded with the prefix ``z``.
"""

from __future__ import annotations

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
ED25519_PUBLIC = b"\xed\x01"
ED25519_PRIVATE = b"\x80\x26"


def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rest = divmod(number, 58)
        out.append(ALPHABET[rest])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Bytes of a base58btc string; ValueError for a letter outside the alphabet."""
    number = 0
    for char in text:
        if char not in _INDEX:
            raise ValueError(f"not base58btc: {char!r}")
        number = number * 58 + _INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def encode(data: bytes) -> str:
    """``z`` + base58btc."""
    return "z" + b58encode(data)


def decode(text: str) -> bytes:
    """Bytes of a ``z``-prefixed multibase string; ValueError otherwise."""
    if not isinstance(text, str) or not text.startswith("z"):
        raise ValueError("only base58btc multibase values (starting with z) are accepted")
    return b58decode(text[1:])


def public_key_multibase(raw: bytes) -> str:
    return encode(ED25519_PUBLIC + raw)


def private_key_multibase(seed: bytes) -> str:
    return encode(ED25519_PRIVATE + seed)


def public_key_bytes(value: str) -> bytes:
    """The 32 bytes of an Ed25519 ``publicKeyMultibase``; ValueError otherwise."""
    data = decode(value)
    if not data.startswith(ED25519_PUBLIC) or len(data) != 34:
        raise ValueError("not an Ed25519 Multikey public key")
    return data[2:]


def private_key_seed(value: str) -> bytes:
    data = decode(value)
    if not data.startswith(ED25519_PRIVATE) or len(data) != 34:
        raise ValueError("not an Ed25519 Multikey private key")
    return data[2:]
