"""The one country lookup: ISO 3166 codes from the codes and names people type.

The person form, spreadsheet imports and a programme's target countries all read countries
through ``country_code``, so they accept the same spellings: ISO alpha-2 (and XK, Kosovo)
and alpha-3 codes, the ISO 3166 names, a few common English names ISO does not use
("Turkey", "England", "Holland"), and the CLDR names in the languages of our participants
("Азербайджан", "Azərbaycan", "Türkei").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType

import pycountry
from anyascii import anyascii
from babel import Locale

# Codes in use but not (yet) in ISO 3166.
EXTRA_COUNTRIES = {"XK": "Kosovo"}

# Common names that neither ISO 3166 nor the CLDR use.
ALIASES = {
    "turkey": "TR",
    "turkiye": "TR",
    "russia": "RU",
    "kosovo": "XK",
    "macedonia": "MK",
    "ivory coast": "CI",
    "cape verde": "CV",
    "palestine": "PS",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "usa": "US",
    "holland": "NL",
    "czech republic": "CZ",
    "swaziland": "SZ",
    "burma": "MM",
    "drc": "CD",
    "kirghizia": "KG",
}

# The languages whose CLDR country names are accepted, English first.
LANGUAGES = ("en", "ru", "az", "tr", "uk", "ka", "fr", "de", "es")

_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def country_key(text: str) -> str:
    """``text`` folded for comparing country names: ASCII, case-folded, every run of other
    characters one space, no leading "the" ("The  Gambia" and "gambia" -> "gambia",
    "Côte d’Ivoire" -> "cote d ivoire", "Азербайджан" -> "azerbaidzhan")."""
    ascii_text = anyascii(unicodedata.normalize("NFKC", text)).casefold()
    key = _NOT_ALPHANUMERIC.sub(" ", ascii_text).strip()
    return key.removeprefix("the ")


@cache
def _names() -> dict[str, str]:
    names = {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    names.update(EXTRA_COUNTRIES)
    return names


def country_names() -> Mapping[str, str]:
    """Every known alpha-2 code (XK included) -> its English short name ("AZ" ->
    "Azerbaijan", "KR" -> "South Korea"). Read-only."""
    return MappingProxyType(_names())


@cache
def _index() -> dict[str, str]:
    """Folded codes and names -> alpha-2 code. Codes first, then the English names, then the
    other languages: the first entry of a key wins."""
    index: dict[str, str] = {}
    for country in pycountry.countries:
        index.setdefault(country.alpha_2.casefold(), country.alpha_2)
        index.setdefault(country.alpha_3.casefold(), country.alpha_2)
    for code in EXTRA_COUNTRIES:
        index.setdefault(code.casefold(), code)
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            name = getattr(country, attr, None)
            if name:
                index.setdefault(country_key(name), country.alpha_2)
    for code, name in EXTRA_COUNTRIES.items():
        index.setdefault(country_key(name), code)
    for alias, code in ALIASES.items():
        index.setdefault(alias, code)
    known = _names()
    for language in LANGUAGES:
        for code, name in Locale.parse(language).territories.items():
            if code in known:
                index.setdefault(country_key(name), code)
    # Spreadsheets also have names run together ("NewZealand", "Cote dIvoire").
    for key, code in list(index.items()):
        index.setdefault(key.replace(" ", ""), code)
    return index


def country_code(text: str) -> str | None:
    """The ISO 3166 alpha-2 code (or XK) of a code or name, or None when none is known.

    Accepts alpha-2 and alpha-3 codes in any case ("az", "AZE"), ISO and common English
    names ("Azerbaijan", "Korea, Republic of", "Turkey", "England") and the CLDR names in
    the ``LANGUAGES`` ("Азербайджан", "Azərbaycan", "Türkei")."""
    key = country_key(text)
    if not key:
        return None
    index = _index()
    return index.get(key) or index.get(key.replace(" ", ""))
