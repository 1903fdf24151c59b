"""Shared by the certificate's drawing modules: the page size, the font folder, the caches
of prepared fonts and images, and the text boxes a layout test records."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from reportlab.lib.pagesizes import A4, landscape

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).parent.parent / "fonts"
PAGE_W, PAGE_H = landscape(A4)

T = TypeVar("T")

# ------------------------------------------------------------------------------ caches

_cache_lock = threading.Lock()
# Subsetting reads the font file through a shared cursor: one subset at a time.
_subset_lock = threading.Lock()


def _cached(cache: OrderedDict[Any, T], key: Any, make: Callable[[], T], size: int) -> T:
    """``cache[key]``, made with ``make()`` on a miss; at most ``size`` entries (LRU)."""
    with _cache_lock:
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    value = make()
    with _cache_lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > size:
            cache.popitem(last=False)
    return value


# While a test records (``record_text_boxes``): (text, left, bottom, right, top) of each line.
_BOXES: list[tuple[str, float, float, float, float]] | None = None


def record_text_boxes(boxes: list[tuple[str, float, float, float, float]] | None) -> None:
    """Collect the box of every line drawn into ``boxes`` (None: stop); for layout tests."""
    global _BOXES
    _BOXES = boxes
