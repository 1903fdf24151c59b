"""Shared by the signing and credential tests: a signing key set up fast (one RSA key made
once per test run instead of one per test)."""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from trainingmgr.credentials import keys


@cache
def _rsa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def _other_rsa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def generate_key(name: str = "Regional Training Centre", *, actor: Any, other: bool = False) -> Any:
    """``keys.generate`` with a ready-made RSA key (``other``: a second one, for rotation)."""
    original = keys.rsa.generate_private_key
    ready = _other_rsa_key() if other else _rsa_key()
    keys.rsa.generate_private_key = lambda **_kw: ready
    try:
        return keys.generate(name, actor=actor)
    finally:
        keys.rsa.generate_private_key = original
