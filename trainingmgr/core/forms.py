"""Form helpers shared by every domain."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms.fields.choices import SelectChoice


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Select or radio options from (value, label) pairs (WTForms 3.3's SelectChoice)."""
    return [SelectChoice(value, label) for value, label in pairs]


def grouped_options(groups: dict[str, list[tuple[Any, Any, str]]]) -> list[SelectChoice]:
    """Options in ``<optgroup>``s from (value, label, search text) triples; the search text
    (names folded and transliterated) lets a filter box match "petrov" to "Петров"."""
    return [
        SelectChoice(value, label, render_kw={"data-search": search}, optgroup=group)
        for group, items in groups.items()
        for value, label, search in items
    ]
