"""Which column of a spreadsheet holds which field: header recognition and mapping checks.

Headers are compared by a key that ignores case, accents, script, spaces and punctuation,
so "E-mail", "EMAIL ADDRESS", "Электронная почта" and "E-poçt" are all recognised.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from anyascii import anyascii
from flask_babel import lazy_gettext as _l

from trainingmgr.people.models import FIELD_LABELS

# The fields a column can be mapped to, in the order of the template and of exports, with
# the column headers written in templates and exports (English, stable for re-import).
HEADERS: dict[str, str] = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "sex": "Sex",
    "country": "Country",
    "organisation": "Organisation",
    "position": "Position",
    "phone": "Phone",
    "name_latin": "Name in Latin script",
}

# Their labels: the person form's, but for the Latin name (the template's words).
FIELDS: dict[str, Any] = {
    **{name: FIELD_LABELS[name] for name in HEADERS},
    "name_latin": _l("Name in Latin script"),
}

# A row cannot be imported without these.
REQUIRED = ("first_name", "last_name", "email")

_ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": (
        "first name",
        "firstname",
        "first",
        "given name",
        "given names",
        "forename",
        "forenames",
        "name",
        "prenom",
        "vorname",
        "nombre",
        "имя",
        "ім'я",
        "ad",
        "adı",
    ),
    "last_name": (
        "last name",
        "lastname",
        "last",
        "surname",
        "family name",
        "family names",
        "nom",
        "nom de famille",
        "nachname",
        "apellido",
        "apellidos",
        "фамилия",
        "прізвище",
        "soyad",
        "soyadı",
    ),
    "email": (
        "e-mail",
        "email",
        "e-mail address",
        "email address",
        "mail",
        "courriel",
        "электронная почта",
        "эл. почта",
        "e-poçt",
        "e-poçt ünvanı",
        "e-posta",
    ),
    "sex": (
        "sex",
        "gender",
        "sexe",
        "genre",
        "geschlecht",
        "пол",
        "стать",
        "cins",
        "cinsi",
        "cinsiyet",
    ),
    "country": (
        "country",
        "nationality",
        "citizenship",
        "country of nationality",
        "country of citizenship",
        "pays",
        "land",
        "страна",
        "гражданство",
        "країна",
        "ölkə",
        "vətəndaşlıq",
        "ülke",
        "uyruk",
    ),
    "organisation": (
        "organisation",
        "organization",
        "institution",
        "organisation / institution",
        "ministry",
        "agency",
        "employer",
        "organisme",
        "организация",
        "учреждение",
        "організація",
        "təşkilat",
        "qurum",
        "kurum",
    ),
    "position": (
        "position",
        "job title",
        "job",
        "function",
        "post",
        "poste",
        "должность",
        "посада",
        "vəzifə",
        "görev",
        "unvan",
    ),
    "phone": (
        "phone",
        "phone number",
        "telephone",
        "telephone number",
        "tel",
        "mobile",
        "mobile phone",
        "mobile number",
        "cell phone",
        "téléphone",
        "телефон",
        "telefon",
        "mobil",
    ),
    "name_latin": (
        "name in latin script",
        "name in latin",
        "latin name",
        "name latin",
        "transliteration",
        "name as in passport",
    ),
}

# Headers that are words of other headers too ("name") count only when nothing better matches.
_WEAK = {"name", "first", "last", "job", "post", "land", "mail", "ad"}


def header_key(text: str) -> str:
    """``text`` reduced to lower-case ASCII letters and digits: the key headers match on."""
    text = unicodedata.normalize("NFKC", text or "")
    return re.sub(r"[^a-z0-9]+", "", anyascii(text).casefold())


_KEYS: dict[str, tuple[str, bool]] = {}
for _field, _names in _ALIASES.items():
    for _name in _names:
        _KEYS.setdefault(header_key(_name), (_field, _name in _WEAK))


def _lookup(header: str) -> tuple[str, bool] | None:
    """(field, weak) for a header; a "*" or "(required)" marker is ignored."""
    cleaned = re.sub(r"\((required|optional)\)|\*", "", header or "", flags=re.IGNORECASE)
    return _KEYS.get(header_key(cleaned))


def guess_field(header: str) -> str | None:
    """The field a header names, or None."""
    found = _lookup(header)
    return found[0] if found else None


def auto_mapping(headers: list[str]) -> list[str | None]:
    """The field of each column, recognised from its header; each field used at most once.

    Strong matches ("First name") win over weak ones ("Name") whatever their order.
    """
    mapping: list[str | None] = [None] * len(headers)
    used: set[str] = set()
    for weak_pass in (False, True):
        for index, header in enumerate(headers):
            found = _lookup(header)
            if found is None or mapping[index] is not None:
                continue
            field, weak = found
            if weak == weak_pass and field not in used:
                mapping[index] = field
                used.add(field)
    return mapping


def recognised_count(cells: list[str]) -> int:
    """How many distinct fields a row of cells names: used to find the header row."""
    return len({f for f in (guess_field(c) for c in cells if c) if f})


def mapping_problems(mapping: list[str | None]) -> list[str]:
    """What is wrong with a mapping: a required field without a column, a field used twice."""
    from flask_babel import gettext as _

    problems = []
    for field in REQUIRED:
        if field not in mapping:
            problems.append(
                _(
                    "No column is mapped to %(field)s: the file needs one (choose it below, "
                    "or add the column to the file).",
                    field=FIELDS[field],
                )
            )
    seen: set[str] = set()
    for field in mapping:
        if field is None:
            continue
        if field in seen:
            problems.append(_("%(field)s is chosen for more than one column.", field=FIELDS[field]))
        seen.add(field)
    return problems
