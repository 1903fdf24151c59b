"""Plurals for JavaScript: a message's forms for each CLDR plural category of the locale,
taken from the translation catalogue (``ngettext``), so that scripts say "1 unsaved change",
"2 несохранённых изменения", "5 несохранённых изменений" as the server would."""

from __future__ import annotations

import json
from functools import lru_cache

from babel import Locale
from flask_babel import get_locale, ngettext
from markupsafe import Markup

# Numbers tried to find an example of each plural category of a locale.
_SAMPLES = range(0, 112)


@lru_cache(maxsize=64)
def _examples(locale: Locale) -> tuple[tuple[str, int], ...]:
    """(category, a number of that category) for each CLDR plural category of ``locale``,
    in the order the numbers first reach them ("other" always has one)."""
    examples: dict[str, int] = {}
    for n in _SAMPLES:
        examples.setdefault(locale.plural_form(n), n)
    examples.setdefault("other", 5)
    return tuple(examples.items())


def plural_forms(singular: str, plural: str) -> dict[str, str]:
    """{CLDR category: the message for a number of that category} in the current locale.
    ``{n}`` in the message stands for the number (filled in by the script)."""
    locale = get_locale() or Locale("en")
    return {category: ngettext(singular, plural, n) for category, n in _examples(locale)}


def js_plural(singular: str, plural: str) -> Markup:
    """``plural_forms`` as JSON for a ``data-`` attribute (escaped by the template)."""
    return Markup.escape(json.dumps(plural_forms(singular, plural), ensure_ascii=False))
