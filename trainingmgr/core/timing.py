"""Answers that take the same time whatever the answer (no account discovery by timing)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def at_least(seconds: float) -> Iterator[None]:
    """Make the block last at least ``seconds``: a request about an unknown address (nothing
    to do) then takes as long as one about a real account (a token made, an e-mail queued)."""
    started = time.monotonic()
    yield
    time.sleep(max(0.0, seconds - (time.monotonic() - started)))
