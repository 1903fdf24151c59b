"""What the demo's definitions share: the folder of their data files, and copying the fields
of a definition that a model names alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent.parent / "data"


def copied(source: object, *names: str) -> dict[str, Any]:
    """``source``'s attributes ``names``: keyword arguments of a model with fields so named."""
    return {name: getattr(source, name) for name in names}
