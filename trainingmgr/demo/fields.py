"""Copying the fields of a demo definition that a model names alike."""

from __future__ import annotations

from typing import Any


def copied(source: object, *names: str) -> dict[str, Any]:
    """``source``'s attributes ``names``: keyword arguments of a model with fields so named."""
    return {name: getattr(source, name) for name in names}
