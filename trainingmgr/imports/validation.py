"""Row verdicts: clean one row's values, then judge it against the file and the database.

Everything here is pure: the database lookups are done by ``services`` and passed in, so
the rules can be tested without a request or a database.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.core.errors import DomainError
from trainingmgr.core.labels import label_for
from trainingmgr.imports.mapping import FIELDS, REQUIRED
from trainingmgr.imports.parsing import SourceRow
from trainingmgr.people.duplicates import name_keys
from trainingmgr.people.models import Sex
from trainingmgr.people.services import normalise_country, normalise_email

# A cell starting with one of these is run as a formula by spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A phone number may start with "+": "+994 (12) 345-67-89".
_PHONE = re.compile(r"^\+[\d\s().\-/]+$")
MAX_LENGTH = {
    "first_name": 120,
    "last_name": 120,
    "email": 254,
    "organisation": 250,
    "position": 250,
    "phone": 50,
    "name_latin": 250,
}


class Verdict(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ENROL = "enrol"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    ERROR = "error"

    @property
    def label(self) -> Any:
        return _VERDICT_LABELS[self]

    @property
    def badge(self) -> str:
        return _VERDICT_BADGES[self]


_VERDICT_LABELS = {
    Verdict.CREATE: _l("Will create"),
    Verdict.UPDATE: _l("Will update"),
    Verdict.ENROL: _l("Will enrol"),
    Verdict.UNCHANGED: _l("No change"),
    Verdict.DUPLICATE: _l("Possible duplicate"),
    Verdict.ERROR: _l("Error"),
}
_VERDICT_BADGES = {
    Verdict.CREATE: "text-bg-success",
    Verdict.UPDATE: "text-bg-info",
    Verdict.ENROL: "text-bg-primary",
    Verdict.UNCHANGED: "text-bg-secondary",
    Verdict.DUPLICATE: "text-bg-warning",
    Verdict.ERROR: "text-bg-danger",
}


# --- cleaning one value -------------------------------------------------------------------


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[^\w]+", "", text)


_SEX_WORDS: dict[Sex, tuple[str, ...]] = {
    Sex.FEMALE: (
        "f",
        "female",
        "woman",
        "fem",
        "femme",
        "frau",
        "mujer",
        "ж",
        "жен",
        "женский",
        "женщина",
        "жін",
        "жіноча",
        "qadın",
        "qadin",
        "kadın",
        "kadin",
        "mrs",
        "ms",
    ),
    Sex.MALE: (
        "m",
        "male",
        "man",
        "masc",
        "homme",
        "mann",
        "hombre",
        "м",
        "муж",
        "мужской",
        "мужчина",
        "чол",
        "чоловіча",
        "kişi",
        "kisi",
        "erkek",
        "mr",
    ),
    Sex.OTHER: ("other", "x", "diverse", "nonbinary", "nb", "другое", "інше", "digər", "diger"),
    Sex.UNDISCLOSED: (
        "undisclosed",
        "prefernottosay",
        "prefersnottosay",
        "notdisclosed",
        "notstated",
        "не указан",
        "не указано",
    ),
}
SEX_VALUES: dict[str, Sex] = {_key(w): sex for sex, words in _SEX_WORDS.items() for w in words}


def clean_sex(text: str) -> Sex:
    sex = SEX_VALUES.get(_key(text))
    if sex is None:
        raise DomainError(
            _(
                "Unknown sex value “%(value)s”: use F or M (female, male, other, "
                "prefer not to say).",
                value=text,
            ),
            "sex",
        )
    return sex


def clean_country(text: str) -> str:
    """An ISO alpha-2 code from a code or a name, in English or in Russian, Azerbaijani,
    Turkish... ("Азербайджан"): the same spellings as the person form."""
    return normalise_country(text) or ""


def clean_email(text: str) -> str:
    return normalise_email(text) or ""


_CLEANERS: dict[str, Callable[[str], Any]] = {
    "email": clean_email,
    "sex": clean_sex,
    "country": clean_country,
}


def unquote(text: str) -> str:
    """Undo the apostrophe our exports put before a formula character ("'+994...")."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@":
        return text[1:]
    return text


def formula_problem(field_name: str, text: str) -> str | None:
    """Why a cell is refused as a possible spreadsheet formula, or None."""
    if not text.startswith(FORMULA_START):
        return None
    if field_name == "phone" and _PHONE.match(text):
        return None
    shown = {"\t": "tab", "\r": "carriage return"}.get(text[0], text[0])
    return _(
        "%(field)s starts with '%(char)s': spreadsheet formulas are not accepted. Remove the "
        "'%(char)s' or write the value as plain text.",
        field=FIELDS[field_name],
        char=shown,
    )


@dataclass
class CleanRow:
    line: int
    cells: tuple[str, ...]
    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    _keys: set[str] | None = field(default=None, repr=False, compare=False)

    def name_keys(self) -> set[str]:
        """``name_keys`` of the row's name (worked out once: it costs a transliteration)."""
        if self._keys is None:
            self._keys = name_keys(self.values.get("first_name"), self.values.get("last_name"))
        return self._keys


def pack_clean_rows(rows: list[CleanRow]) -> list[list[Any]]:
    """Cleaned rows as JSON-ready lists (``unpack_clean_rows`` with the same table's rows)."""
    return [
        [{k: v.value if isinstance(v, Sex) else v for k, v in r.values.items()}, r.errors]
        for r in rows
    ]


def unpack_clean_rows(packed: list[list[Any]], sources: list[SourceRow]) -> list[CleanRow]:
    rows = []
    for (values, errors), source in zip(packed, sources, strict=True):
        if "sex" in values:
            values["sex"] = Sex(values["sex"])
        rows.append(CleanRow(source.line, source.cells, values, errors))
    return rows


def clean_row(source: SourceRow, mapping: list[str | None]) -> CleanRow:
    """The row's values by field, cleaned, and what is wrong with them."""
    row = CleanRow(source.line, source.cells, {})
    refused: set[str] = set()
    for index, field_name in enumerate(mapping):
        if field_name is None or index >= len(source.cells):
            continue
        text = unquote(source.cells[index])
        if not text or not text.strip("-–—"):  # empty, or a lone dash meaning "nothing"
            continue
        problem = _problem(field_name, text)
        if problem is None:
            cleaner = _CLEANERS.get(field_name)
            try:
                row.values[field_name] = cleaner(text) if cleaner else text
                continue
            except DomainError as exc:
                problem = exc.message
        row.errors.append(problem)
        refused.add(field_name)
    for field_name in REQUIRED:
        if field_name in _NAMES:
            continue
        if field_name in mapping and field_name not in row.values and field_name not in refused:
            row.errors.append(_("%(field)s is missing.", field=FIELDS[field_name]))
    # One-word names (Suharto) are whole names: a first or a last name is enough.
    if any(f in mapping for f in _NAMES) and not any(
        f in row.values or f in refused for f in _NAMES
    ):
        row.errors.append(_("Enter a first name or a last name."))
    return row


_NAMES = ("first_name", "last_name")


def _problem(field_name: str, text: str) -> str | None:
    """A formula or an over-long value, before the field's own checks."""
    problem = formula_problem(field_name, text)
    if problem:
        return problem
    limit = MAX_LENGTH.get(field_name)
    if limit and len(text) > limit:
        return _(
            "%(field)s is longer than %(max)s characters.", field=FIELDS[field_name], max=limit
        )
    return None


# --- judging rows -------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An existing person, as far as duplicate detection needs it."""

    id: int
    first_name: str
    last_name: str
    email: str | None
    country: str | None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


class NameIndex:
    """Existing people by (name key, country): finds possible duplicates of a new row."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self._by_key: dict[tuple[str, str | None], list[Candidate]] = defaultdict(list)
        for c in candidates:
            for key in name_keys(c.first_name, c.last_name):
                self._by_key[(key, c.country)].append(c)

    def find(self, first_name: str | None, last_name: str | None, country: str | None) -> list:
        return self.find_keys(name_keys(first_name, last_name), country)

    def find_keys(self, keys: set[str], country: str | None) -> list:
        found: dict[int, Candidate] = {}
        for key in keys:
            for c in self._by_key.get((key, country), ()):
                found[c.id] = c
        return sorted(found.values(), key=lambda c: c.id)


PERSON_FIELDS = tuple(f for f in FIELDS if f != "email")


@dataclass
class RowResult:
    line: int
    cells: tuple[str, ...]
    values: dict[str, Any]
    verdict: Verdict
    messages: list[str] = field(default_factory=list)
    # Worth a second look, but not in the way: same name as another row of the file.
    warnings: list[str] = field(default_factory=list)
    person_id: int | None = None  # the existing person the row updates or enrols
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    enrol: bool = False  # the row's person is to be enrolled into the cohort
    waitlisted: bool = False
    # A possible duplicate: the people it may be, and what the coordinator chose ("skip",
    # "new", or "p<id>" of one of them: ``services.resolve_duplicate``).
    candidates: list[Candidate] = field(default_factory=list)
    choice: str | None = None

    @property
    def importable(self) -> bool:
        return self.verdict in (Verdict.CREATE, Verdict.UPDATE, Verdict.ENROL)

    @property
    def writes(self) -> bool:
        """Whether confirming writes something for this row (a resolved duplicate too)."""
        if self.verdict is Verdict.DUPLICATE:
            return self.choice not in (None, "skip")
        return self.importable


def _display(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return str(label_for(value))
    return "" if value is None else str(value)


def judge(
    rows: list[CleanRow],
    existing: dict[str, Any],
    names: NameIndex,
    enrolled: dict[int, EnrolmentStatus] | None,
) -> list[RowResult]:
    """The verdict of every row.

    ``existing`` maps e-mails (lower case) to existing people; ``names`` finds people with
    the same name and country; ``enrolled`` maps person ids to their status in the target
    cohort (None when importing into the directory only).
    """
    problems: dict[int, list[str]] = {id(r): list(r.errors) for r in rows}
    _mark_same_email(rows, problems)
    same_name = _same_name_in_file(rows, problems)
    results = []
    for row in rows:
        errors = problems[id(row)]
        if errors:
            results.append(RowResult(row.line, row.cells, row.values, Verdict.ERROR, errors))
            continue
        person = existing.get(row.values["email"]) if "email" in row.values else None
        if person is not None:
            result = _judge_existing(row, person, enrolled)
        else:
            result = _judge_new(row, names, enrolled)
        others = same_name.get(id(row))
        if others:
            result.warnings.append(
                _(
                    "Same name and country as row %(lines)s of this file, with another e-mail: "
                    "check that they are different people.",
                    lines=", ".join(str(n) for n in others),
                )
            )
        results.append(result)
    return results


def _mark_same_email(rows: list[CleanRow], problems: dict[int, list[str]]) -> None:
    by_email: dict[str, list[CleanRow]] = defaultdict(list)
    for row in rows:
        if row.values.get("email"):
            by_email[row.values["email"]].append(row)
    for email, group in by_email.items():
        if len(group) < 2:
            continue
        for row in group:
            others = ", ".join(str(r.line) for r in group if r is not row)
            problems[id(row)].append(
                _(
                    "The e-mail %(email)s is also on row %(lines)s: keep it on one row only.",
                    email=email,
                    lines=others,
                )
            )


def _same_name_in_file(
    rows: list[CleanRow], problems: dict[int, list[str]]
) -> dict[int, list[int]]:
    """Rows (without other errors) sharing a name and country: row id -> the others' lines."""
    by_key: dict[tuple[str, str | None], list[CleanRow]] = defaultdict(list)
    for row in rows:
        if problems[id(row)]:
            continue
        for key in row.name_keys():
            by_key[(key, row.values.get("country"))].append(row)
    found: dict[int, set[int]] = defaultdict(set)
    for group in by_key.values():
        for row in group:
            found[id(row)].update(r.line for r in group if r is not row)
    return {k: sorted(v) for k, v in found.items() if v}


def _judge_existing(
    row: CleanRow, person: Any, enrolled: dict[int, EnrolmentStatus] | None
) -> RowResult:
    changes = {
        f: (getattr(person, f), row.values[f])
        for f in PERSON_FIELDS
        if row.values.get(f) is not None and getattr(person, f) != row.values[f]
    }
    result = RowResult(row.line, row.cells, row.values, Verdict.UNCHANGED, person_id=person.id)
    result.changes = changes
    status = enrolled.get(person.id) if enrolled is not None else None
    if changes:
        result.verdict = Verdict.UPDATE
        result.messages.append(
            _(
                "Will update %(name)s: %(fields)s.",
                name=person.full_name,
                fields="; ".join(
                    f"{FIELDS[f]}: {_display(old) or '–'} → {_display(new)}"
                    for f, (old, new) in changes.items()
                ),
            )
        )
    if enrolled is None:
        if not changes:
            result.messages.append(_("Already in the directory: %(name)s.", name=person.full_name))
    elif status is not None:
        result.messages.append(
            _("Already enrolled in this cohort (%(status)s).", status=label_for(status))
        )
    else:
        result.enrol = True
        if not changes:
            result.verdict = Verdict.ENROL
            result.messages.append(
                _("%(name)s is already in the directory: will be enrolled.", name=person.full_name)
            )
    return result


def _judge_new(
    row: CleanRow, names: NameIndex, enrolled: dict[int, EnrolmentStatus] | None
) -> RowResult:
    result = RowResult(row.line, row.cells, row.values, Verdict.CREATE)
    result.enrol = enrolled is not None
    matches = names.find_keys(row.name_keys(), row.values.get("country"))
    if matches:
        result.verdict = Verdict.DUPLICATE
        result.candidates = matches
        result.messages.append(
            _(
                "Same name and country as %(people)s, already in the directory with another "
                "e-mail.",
                people=", ".join(f"{c.full_name} ({c.email or _('no e-mail')})" for c in matches),
            )
        )
    elif result.enrol:
        result.messages.append(_("New person: will be added to the directory and enrolled."))
    else:
        result.messages.append(_("New person: will be added to the directory."))
    return result
