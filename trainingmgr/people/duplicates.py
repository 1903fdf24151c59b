"""Likely duplicates: the same name (in any script) and the same country as someone already in
the directory. One rule for the import (``imports.validation``) and the "Add a person" form.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from anyascii import anyascii

from trainingmgr.core.errors import DomainError
from trainingmgr.core.scope import visible_people
from trainingmgr.core.text import clean_text, fold
from trainingmgr.extensions import db
from trainingmgr.people.models import Person
from trainingmgr.people.services import PersonData, normalise_country

# At most this many existing records are offered.
MAX_SHOWN = 10


def name_keys(first_name: str | None, last_name: str | None) -> set[str]:
    """Keys under which two spellings of a name count as the same: the folded name, and its
    ASCII transliteration ("Иван Петров" and "Ivan Petrov" share "ivan petrov")."""
    name = " ".join(p for p in (first_name, last_name) if p)
    if not name:
        return set()
    return {fold(name), " ".join(anyascii(name).casefold().split())}


def likely_duplicates(
    first_name: str | None,
    last_name: str | None,
    country: str | None,
    programme_ids: Collection[int] | None = None,
) -> list[Person]:
    """Unmerged people in the scope of ``programme_ids`` (None: everyone) with the same name
    keys and the same country (or both without one), oldest first.

    The database narrows by the transliterated last name (or first name) found in the
    folded search text (indexed on PostgreSQL), then the keys decide.
    """
    keys = name_keys(first_name, last_name)
    word = anyascii(last_name or first_name or "").casefold().strip()
    if not keys or not word:
        return []
    stmt = (
        sa.select(Person)
        .where(
            Person.merged_into_id.is_(None),
            Person.search_text.contains(word, autoescape=True),
            Person.country == country if country else Person.country.is_(None),
            visible_people(programme_ids),
        )
        .order_by(Person.id)
        .limit(500)
    )
    found = [p for p in db.session.scalars(stmt) if name_keys(p.first_name, p.last_name) & keys]
    return found[:MAX_SHOWN]


def likely_duplicates_of(
    data: PersonData, programme_ids: Collection[int] | None = None
) -> list[Person]:
    """``likely_duplicates`` of a person about to be added (as typed in the form); none when
    the country is not one we know (the form then says so)."""
    try:
        country = normalise_country(clean_text(data.country))
    except DomainError:
        return []
    return likely_duplicates(
        clean_text(data.first_name), clean_text(data.last_name), country, programme_ids
    )
