"""The people directory: search, create and edit people, the person page, and merging two
records of the same person. Callers commit."""

from __future__ import annotations

import time
import unicodedata
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pycountry
import sqlalchemy as sa
from anyascii import anyascii
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from trainingmgr.accounts.models import User
from trainingmgr.attendance.models import ATTENDED, AttendanceRecord, AttendanceStatus
from trainingmgr.audit import services as audit
from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts.models import (
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Session,
    session_trainers,
)
from trainingmgr.core.errors import DomainError
from trainingmgr.core.labels import country_label
from trainingmgr.core.pagination import DEFAULT_PER_PAGE, Page, paginate
from trainingmgr.core.scope import scope_cohort_ids, visible_people
from trainingmgr.core.text import clean_text, fold_query
from trainingmgr.core.types import Choice
from trainingmgr.extensions import db
from trainingmgr.people.models import Person, Sex

# --- countries -------------------------------------------------------------------------

# Codes in use but not (yet) in ISO 3166, and common English names pycountry does not know.
_EXTRA_COUNTRIES = {"XK": "Kosovo"}
_COUNTRY_ALIASES = {
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
    "holland": "NL",
    "czech republic": "CZ",
    "swaziland": "SZ",
    "burma": "MM",
    "drc": "CD",
}


def _country_key(text: str) -> str:
    key = " ".join(anyascii(text).casefold().replace(",", " ").split())
    return key.removeprefix("the ")


@cache
def _countries() -> tuple[dict[str, str], dict[str, str]]:
    """``(names by code, codes by folded name)``, built once."""
    names: dict[str, str] = {}
    codes: dict[str, str] = {}
    for country in pycountry.countries:
        shown = getattr(country, "common_name", None) or country.name
        names[country.alpha_2] = shown
        for name in (country.name, shown, getattr(country, "official_name", None)):
            if name:
                codes.setdefault(_country_key(name), country.alpha_2)
        codes.setdefault(country.alpha_3.casefold(), country.alpha_2)
    for code, name in _EXTRA_COUNTRIES.items():
        names[code] = name
    for alias, code in _COUNTRY_ALIASES.items():
        codes.setdefault(alias, code)
    return names, codes


def country_name(code: str | None) -> str:
    """The English short name of an ISO 3166 alpha-2 code ("AZ" -> "Azerbaijan")."""
    if not code:
        return ""
    return _countries()[0].get(code.upper(), code)


def country_choices() -> list[tuple[str, str]]:
    """Every known country as ``(code, name)``, sorted by name."""
    return sorted(_countries()[0].items(), key=lambda item: _country_key(item[1]))


def normalise_country(value: str | None, field_name: str = "country") -> str | None:
    """An ISO 3166 alpha-2 code from a code ("az", "AZE") or a name ("Azerbaijan")."""
    text = (value or "").strip()
    if not text:
        return None
    names, codes = _countries()
    if len(text) == 2 and text.upper() in names:
        return text.upper()
    code = codes.get(_country_key(text))
    if code is None:
        raise DomainError(
            _(
                "Unknown country “%(value)s”: enter a country name such as Azerbaijan "
                "or an ISO code such as AZ.",
                value=text,
            ),
            field_name,
        )
    return code


# --- directory -------------------------------------------------------------------------


class DirectoryRole(Choice):
    PARTICIPANT = "participant"
    TRAINER = "trainer"


@dataclass(frozen=True)
class DirectoryFilter:
    q: str = ""
    country: str | None = None
    organisation: str | None = None
    role: DirectoryRole | None = None

    @classmethod
    def from_args(cls, args: Any) -> DirectoryFilter:
        """From query arguments; values that cannot match anything are ignored."""
        country = (args.get("country") or "").strip().upper()
        role = args.get("role") or ""
        return cls(
            q=(args.get("q") or "").strip()[:200],
            country=country if len(country) == 2 else None,
            organisation=(args.get("organisation") or "").strip() or None,
            role=DirectoryRole(role) if role in DirectoryRole._value2member_map_ else None,
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.country or self.organisation or self.role)


@dataclass(frozen=True)
class DirectoryRow:
    person: Person
    cohorts: int
    sessions: int


def _count_queries(programme_ids: Collection[int] | None) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """(person_id, n) of cohorts attended and of sessions taught, per person, counting only
    the cohorts of ``programme_ids`` (all: None); ungrouped yet."""
    enrolled = sa.select(Enrolment.person_id, sa.func.count().label("n"))
    taught = sa.select(session_trainers.c.person_id, sa.func.count().label("n")).join(
        Session, Session.id == session_trainers.c.session_id
    )
    if programme_ids is not None:
        cohorts = scope_cohort_ids(programme_ids)
        enrolled = enrolled.where(Enrolment.cohort_id.in_(cohorts))
        taught = taught.where(Session.cohort_id.in_(cohorts))
    return enrolled, taught


def directory_counts(
    person_ids: Collection[int], programme_ids: Collection[int] | None = None
) -> dict[int, tuple[int, int]]:
    """{person id: (cohorts attended, sessions taught)} for these people (a page of the
    directory), counting only the cohorts of ``programme_ids`` (all: None); two grouped
    queries, whatever the number of people. People with neither are left out."""
    ids = sorted(set(person_ids))
    counts: dict[int, tuple[int, int]] = {}
    if not ids:
        return counts
    enrolled, taught = _count_queries(programme_ids)
    enrolled = enrolled.where(Enrolment.person_id.in_(ids)).group_by(Enrolment.person_id)
    taught = taught.where(session_trainers.c.person_id.in_(ids)).group_by(
        session_trainers.c.person_id
    )
    for person_id, n in db.session.execute(enrolled):
        counts[person_id] = (n, 0)
    for person_id, n in db.session.execute(taught):
        counts[person_id] = (counts.get(person_id, (0, 0))[0], n)
    return counts


def directory_export_query(
    filters: DirectoryFilter, columns: Collection[Any], programme_ids: Collection[int] | None
) -> sa.Select[Any]:
    """The directory (``directory_query``) as rows of ``columns`` of ``Person`` then
    ``cohorts`` and ``sessions`` (counted as in ``directory_counts``): plain rows, no ORM
    objects, the counts grouped once for everyone and joined (an export reads everyone)."""
    enrolled, taught = _count_queries(programme_ids)
    enrolled_n = enrolled.group_by(Enrolment.person_id).subquery()
    taught_n = taught.group_by(session_trainers.c.person_id).subquery()
    return (
        directory_query(filters, programme_ids)
        .with_only_columns(
            *columns,
            sa.func.coalesce(enrolled_n.c.n, 0).label("cohorts"),
            sa.func.coalesce(taught_n.c.n, 0).label("sessions"),
            maintain_column_froms=True,
        )
        .outerjoin(enrolled_n, enrolled_n.c.person_id == Person.id)
        .outerjoin(taught_n, taught_n.c.person_id == Person.id)
    )


def search_condition(q: str) -> Any:
    """Each term of ``q`` must occur in the person's folded names or e-mail, in its
    original script or transliterated ("aliyeva" finds "Əliyeva", "петров" "Петров")."""
    conditions = []
    for original, latin in fold_query(q):
        forms = {original, latin} - {""}
        conditions.append(
            sa.or_(*(Person.search_text.contains(f, autoescape=True) for f in sorted(forms)))
        )
    return sa.and_(sa.true(), *conditions)


# Terms this long are found through the trigram index on PostgreSQL (pg_trgm needs three).
INDEXED_TERM = 3


def name_order(q: str = "") -> tuple[Any, ...]:
    """``ORDER BY`` for people listed by name, matching ``q`` (a search; "" for none).

    A search term of three letters or more is answered by the trigram index (PostgreSQL): the
    people matching are then sorted, a few thousand at most. Ordering by the indexed name
    columns would make PostgreSQL walk the name index instead, reading up to every person
    until a page of matches turns up (600 ms for "петров" among 100,000 people), so the
    sort keys are expressions the name index cannot give: same order, same results.
    """
    terms = fold_query(q)
    if terms and all(len(original) >= INDEXED_TERM for original, _latin in terms):
        return (Person.last_name + "", Person.first_name + "", Person.id)
    return (Person.last_name, Person.first_name, Person.id)


def directory_query(
    filters: DirectoryFilter, programme_ids: Collection[int] | None = None
) -> sa.Select[Any]:
    """People (merged records excepted) matching ``filters``, with their number of cohorts
    attended and sessions taught, ordered by name.

    With ``programme_ids`` (a coordinator's programmes; None: all), only the people in their
    scope (``core.scope.visible_people``), counting only those programmes' cohorts."""
    query = (
        sa.select(Person)
        .where(Person.merged_into_id.is_(None))
        .where(search_condition(filters.q))
        .order_by(*name_order(filters.q))
    )
    if programme_ids is not None:
        query = query.where(visible_people(programme_ids))
    if filters.country:
        query = query.where(Person.country == filters.country)
    if filters.organisation:
        query = query.where(Person.organisation == filters.organisation)
    if filters.role == DirectoryRole.PARTICIPANT:
        query = query.where(sa.exists().where(Enrolment.person_id == Person.id))
    elif filters.role == DirectoryRole.TRAINER:
        query = query.where(sa.exists().where(session_trainers.c.person_id == Person.id))
    return query


def directory(
    filters: DirectoryFilter,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    programme_ids: Collection[int] | None = None,
) -> Page[DirectoryRow]:
    """One page of the directory (of the scope of ``programme_ids``, see ``directory_query``):
    four queries whatever the number of people (count, page, and the page's counts: counted
    for the page only, where columns of the page query were computed for every row skipped)."""
    result = paginate(
        directory_query(filters, programme_ids), page, per_page, count_limit=DIRECTORY_COUNT_LIMIT
    )
    counts = directory_counts([p.id for p in result.items], programme_ids)
    rows = [DirectoryRow(p, *counts.get(p.id, (0, 0))) for p in result.items]
    return Page(
        items=rows, page=result.page, per_page=result.per_page, total=result.total, more=result.more
    )


@dataclass(frozen=True)
class DirectoryOptions:
    country_codes: list[str]
    organisations: list[str]

    @property
    def countries(self) -> list[tuple[str, str]]:
        """(code, name in the reader's language), sorted by name (named when read: the
        options are cached for readers of every language)."""
        named = ((code, country_label(code)) for code in self.country_codes)
        return sorted(named, key=lambda item: _country_key(item[1]))


# The directory counts its results up to this many ("more than 1,000"): an exact count of
# 100,000 people in a coordinator's scope costs more than the page.
DIRECTORY_COUNT_LIMIT = 1000

# The filter menus scan every person in scope: they are kept per scope for a minute, and
# dropped by this process as soon as it writes people, enrolments or sessions.
OPTIONS_TTL = 60.0
_options_cache: dict[tuple[int, ...] | None, tuple[float, DirectoryOptions]] = {}


def _forget_options(session: Any, *_args: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(o, (Person, Enrolment, Session)) for o in changed):
        forget_directory_options()


def forget_directory_options(*_args: Any) -> None:
    """Drop the cached filter menus (after writes that bypass the ORM's flush, e.g. bulk)."""
    _options_cache.clear()


sa.event.listen(sa.orm.Session, "before_flush", _forget_options)
# What the cache saw may have been rolled back.
sa.event.listen(sa.orm.Session, "after_rollback", forget_directory_options)


def directory_options(programme_ids: Collection[int] | None = None) -> DirectoryOptions:
    """The countries and organisations that occur among (unmerged) people in the scope of
    ``programme_ids`` (everyone: None), for filters (cached for ``OPTIONS_TTL`` seconds)."""
    key = None if programme_ids is None else tuple(sorted(programme_ids))
    cached = _options_cache.get(key)
    now = time.monotonic()
    if cached is not None and cached[0] > now:
        return cached[1]
    options = _directory_options(programme_ids)
    _options_cache[key] = (now + OPTIONS_TTL, options)
    return options


def _directory_options(programme_ids: Collection[int] | None) -> DirectoryOptions:
    visible = sa.and_(Person.merged_into_id.is_(None), visible_people(programme_ids, scan=True))
    codes = db.session.scalars(
        sa.select(Person.country).where(visible, Person.country.is_not(None)).distinct()
    )
    organisations = db.session.scalars(
        sa.select(Person.organisation)
        .where(visible, Person.organisation.is_not(None), Person.organisation != "")
        .distinct()
        .order_by(Person.organisation)
    )
    return DirectoryOptions(country_codes=sorted(codes), organisations=list(organisations))


# --- create and edit -------------------------------------------------------------------


@dataclass
class PersonData:
    """What a coordinator enters for a person; every value as typed."""

    first_name: str = ""
    last_name: str = ""
    name_latin: str | None = None
    email: str | None = None
    sex: str | None = None
    country: str | None = None
    organisation: str | None = None
    position: str | None = None
    phone: str | None = None
    notes: str | None = None


EDITABLE = tuple(PersonData.__dataclass_fields__)
_MAX_LENGTH = {
    "first_name": 120,
    "last_name": 120,
    "name_latin": 250,
    "email": 254,
    "organisation": 250,
    "position": 250,
    "phone": 50,
}


def _text(value: str | None) -> str:
    """Typed text as stored: NFC, invisible characters dropped (U+200C and U+200D kept, as
    the import keeps them), no surrounding spaces."""
    return clean_text(value)


def normalise_email(value: str | None, field_name: str = "email") -> str | None:
    """A valid e-mail address in lower case, or ``None`` when empty."""
    text = _text(value)
    if not text:
        return None
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise DomainError(
            _("“%(value)s” is not a valid e-mail address: %(reason)s", value=text, reason=exc),
            field_name,
        ) from exc
    return checked.normalized.lower()


def _clean(data: PersonData, person_id: int | None) -> dict[str, Any]:
    values: dict[str, Any] = {name: _text(getattr(data, name)) for name in EDITABLE}
    values["notes"] = unicodedata.normalize("NFC", data.notes or "").strip() or None
    if not values["first_name"] and not values["last_name"]:
        raise DomainError(_("Enter a first name or a last name."), "first_name")
    for name, limit in _MAX_LENGTH.items():
        if len(values[name]) > limit:
            raise DomainError(_("Too long: at most %(limit)s characters.", limit=limit), name)
    values["email"] = normalise_email(values["email"])
    if values["email"]:
        owner = db.session.scalar(sa.select(Person).where(Person.email == values["email"]))
        if owner is not None and owner.id != person_id:
            raise DomainError(
                _(
                    "This e-mail already belongs to %(name)s (#%(id)s).",
                    name=owner.full_name,
                    id=owner.id,
                ),
                "email",
            )
    if values["sex"] and values["sex"] not in Sex._value2member_map_:
        raise DomainError(_("Choose one of the listed options."), "sex")
    values["sex"] = Sex(values["sex"]) if values["sex"] else None
    values["country"] = normalise_country(values["country"])
    for name in ("name_latin", "organisation", "position", "phone"):
        values[name] = values[name] or None
    return values


def _snapshot(value: Any) -> Any:
    return value.value if isinstance(value, Sex) else value


def create_person(data: PersonData, actor: User | None) -> Person:
    """A new person from ``data`` (validated, names kept as typed)."""
    values = _clean(data, None)
    person = Person(**values)
    db.session.add(person)
    db.session.flush()
    audit.record(
        "person.create",
        actor=actor,
        obj=person,
        changes={k: _snapshot(v) for k, v in values.items() if v is not None},
        summary=person.full_name,
    )
    return person


def update_person(person: Person, data: PersonData, actor: User | None) -> dict[str, list[Any]]:
    """Apply ``data`` to ``person``; returns the changes ``{field: [old, new]}`` (audited)."""
    if person.merged_into_id is not None:
        raise DomainError(_("This record was merged into another one and cannot be edited."))
    values = _clean(data, person.id)
    changes = {
        name: [_snapshot(getattr(person, name)), _snapshot(value)]
        for name, value in values.items()
        if getattr(person, name) != value
    }
    for name in changes:
        setattr(person, name, values[name])
    if changes:
        db.session.flush()
        audit.record(
            "person.update", actor=actor, obj=person, changes=changes, summary=person.full_name
        )
    return changes


# --- the person page -------------------------------------------------------------------


@dataclass(frozen=True)
class AttendedCohort:
    enrolment: Enrolment
    attended: int
    recorded: int

    @property
    def cohort(self) -> Cohort:
        return self.enrolment.cohort


@dataclass(frozen=True)
class TaughtCohort:
    cohort: Cohort
    sessions: list[Session]


@dataclass(frozen=True)
class PersonDetail:
    person: Person
    attended: list[AttendedCohort]
    taught: list[TaughtCohort]
    user: User | None
    merged_into: Person | None


def person_detail(person: Person, programme_ids: Collection[int] | None = None) -> PersonDetail:
    """Everything the person page shows, in a fixed number of queries. With
    ``programme_ids`` (a coordinator's programmes; None: all), only those programmes'
    cohorts are shown."""
    in_scope = (
        sa.true() if programme_ids is None else Cohort.programme_id.in_(sorted(programme_ids))
    )
    enrolments = list(
        db.session.scalars(
            sa.select(Enrolment)
            .join(Cohort, Cohort.id == Enrolment.cohort_id)
            .where(Enrolment.person_id == person.id, in_scope)
            .options(joinedload(Enrolment.cohort).joinedload(Cohort.programme))
            .order_by(Cohort.start_date.desc(), Cohort.name, Enrolment.id)
        )
    )
    counts: dict[int, tuple[int, int]] = {}
    if enrolments:
        rows = db.session.execute(
            sa.select(
                AttendanceRecord.enrolment_id,
                sa.func.count().filter(AttendanceRecord.status.in_(ATTENDED)),
                sa.func.count(),
            )
            .where(AttendanceRecord.enrolment_id.in_([e.id for e in enrolments]))
            .group_by(AttendanceRecord.enrolment_id)
        )
        counts = {eid: (attended, recorded) for eid, attended, recorded in rows}
    attended = [AttendedCohort(e, *counts.get(e.id, (0, 0))) for e in enrolments]

    sessions = db.session.scalars(
        sa.select(Session)
        .join(session_trainers, session_trainers.c.session_id == Session.id)
        .join(Cohort, Cohort.id == Session.cohort_id)
        .where(session_trainers.c.person_id == person.id, in_scope)
        .options(joinedload(Session.cohort).joinedload(Cohort.programme))
        .options(joinedload(Session.module))
        .order_by(Cohort.start_date.desc(), Cohort.id, Session.starts_at)
    )
    by_cohort: dict[int, TaughtCohort] = {}
    for s in sessions:
        by_cohort.setdefault(s.cohort_id, TaughtCohort(s.cohort, [])).sessions.append(s)

    user = db.session.scalar(sa.select(User).where(User.person_id == person.id))
    merged_into = db.session.get(Person, person.merged_into_id) if person.merged_into_id else None
    return PersonDetail(person, attended, list(by_cohort.values()), user, merged_into)


# --- merging ---------------------------------------------------------------------------

# Which enrolment survives when both records are enrolled in one cohort: the higher rank.
STATUS_RANK = {
    EnrolmentStatus.COMPLETED: 6,
    EnrolmentStatus.ENROLLED: 5,
    EnrolmentStatus.NOT_COMPLETED: 4,
    EnrolmentStatus.WAITLISTED: 3,
    EnrolmentStatus.APPLIED: 2,
    EnrolmentStatus.WITHDRAWN: 1,
}

# Fields of the kept record filled from the duplicate when empty (notes are appended).
FILLABLE = (
    "first_name",
    "last_name",
    "name_latin",
    "email",
    "sex",
    "country",
    "organisation",
    "position",
    "phone",
)


@dataclass(frozen=True)
class AttendanceRow:
    id: int
    enrolment_id: int
    session_id: int
    status: AttendanceStatus


@dataclass
class EnrolmentConflict:
    """Both records are enrolled in one cohort: ``kept`` stays, ``dropped`` is deleted after
    its attendance records for sessions ``kept`` has none for move onto ``kept``."""

    cohort: Cohort
    kept: Enrolment
    dropped: Enrolment
    attendance_moved: list[AttendanceRow] = field(default_factory=list)
    attendance_dropped: list[AttendanceRow] = field(default_factory=list)


@dataclass
class MergePlan:
    keep: Person
    duplicate: Person
    enrolments_moved: list[Enrolment]
    attendance_moved: int
    conflicts: list[EnrolmentConflict]
    sessions_moved: list[int]
    sessions_shared: list[int]
    certificates: list[int]
    user: User | None
    fields_filled: dict[str, Any]
    notes_appended: bool

    @property
    def nothing_to_move(self) -> bool:
        return not (
            self.enrolments_moved
            or self.conflicts
            or self.sessions_moved
            or self.sessions_shared
            or self.certificates
            or self.user
            or self.fields_filled
            or self.notes_appended
        )


def _check_merge(keep: Person, duplicate: Person) -> None:
    if keep.id == duplicate.id:
        raise DomainError(_("Choose two different records: a record cannot be merged into itself."))
    if keep.merged_into_id is not None:
        raise DomainError(
            _(
                "%(name)s (#%(id)s) was already merged into another record: "
                "choose that record to keep instead.",
                name=keep.full_name,
                id=keep.id,
            ),
            "keep",
        )
    if duplicate.merged_into_id is not None:
        raise DomainError(
            _(
                "%(name)s (#%(id)s) was already merged into another record.",
                name=duplicate.full_name,
                id=duplicate.id,
            ),
            "duplicate",
        )


def _elsewhere(person_id: int, programme_ids: Collection[int]) -> bool:
    """Whether the person is enrolled in, or teaches in, a programme not in ``programme_ids``."""
    cohorts = sa.select(Cohort.id).where(Cohort.programme_id.not_in(sorted(programme_ids)))
    enrolled = sa.exists().where(Enrolment.person_id == person_id, Enrolment.cohort_id.in_(cohorts))
    teaches = sa.exists().where(
        session_trainers.c.person_id == person_id,
        session_trainers.c.session_id == Session.id,
        Session.cohort_id.in_(cohorts),
    )
    return bool(db.session.scalar(sa.select(sa.or_(enrolled, teaches))))


def plan_merge(
    keep: Person, duplicate: Person, programme_ids: Collection[int] | None = None
) -> MergePlan:
    """What merging ``duplicate`` into ``keep`` would move (nothing is changed).

    Raises ``DomainError`` when the merge is not allowed. A coordinator (``programme_ids``:
    their programmes) may not merge away a record that is enrolled or teaches in another
    programme: its enrolments would move without that programme's coordinators."""
    _check_merge(keep, duplicate)
    if programme_ids is not None and _elsewhere(duplicate.id, programme_ids):
        raise DomainError(
            _(
                "%(name)s (#%(id)s) also takes part in programmes you do not coordinate, so "
                "only an administrator may merge this record into another.",
                name=duplicate.full_name,
                id=duplicate.id,
            ),
            "duplicate",
        )
    users = {
        u.person_id: u
        for u in db.session.scalars(
            sa.select(User).where(User.person_id.in_([keep.id, duplicate.id]))
        )
    }
    if keep.id in users and duplicate.id in users:
        raise DomainError(
            _(
                "Both records have a user account (%(kept)s and %(other)s). A person has one "
                "account: deactivate or unlink one of them first, then merge.",
                kept=users[keep.id].email,
                other=users[duplicate.id].email,
            )
        )

    enrolments = list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.person_id.in_([keep.id, duplicate.id]))
            .options(joinedload(Enrolment.cohort).joinedload(Cohort.programme))
            .order_by(Enrolment.id)
        )
    )
    kept_by_cohort = {e.cohort_id: e for e in enrolments if e.person_id == keep.id}
    theirs = [e for e in enrolments if e.person_id == duplicate.id]
    records_by_enrolment: dict[int, list[AttendanceRow]] = defaultdict(list)
    if theirs:
        involved = [e.id for e in theirs] + [
            kept_by_cohort[e.cohort_id].id for e in theirs if e.cohort_id in kept_by_cohort
        ]
        for row in db.session.execute(
            sa.select(
                AttendanceRecord.id,
                AttendanceRecord.enrolment_id,
                AttendanceRecord.session_id,
                AttendanceRecord.status,
            )
            .where(AttendanceRecord.enrolment_id.in_(involved))
            .order_by(AttendanceRecord.id)
        ):
            records_by_enrolment[row.enrolment_id].append(AttendanceRow(*row))

    moved: list[Enrolment] = []
    conflicts: list[EnrolmentConflict] = []
    attendance_moved = 0
    for theirs_e in theirs:
        ours = kept_by_cohort.get(theirs_e.cohort_id)
        if ours is None:
            moved.append(theirs_e)
            attendance_moved += len(records_by_enrolment[theirs_e.id])
            continue
        better_theirs = STATUS_RANK[theirs_e.status] > STATUS_RANK[ours.status]
        kept, dropped = (theirs_e, ours) if better_theirs else (ours, theirs_e)
        conflict = EnrolmentConflict(theirs_e.cohort, kept, dropped)
        covered = {r.session_id for r in records_by_enrolment[kept.id]}
        for record in records_by_enrolment[dropped.id]:
            if record.session_id in covered:
                conflict.attendance_dropped.append(record)
            else:
                conflict.attendance_moved.append(record)
        conflicts.append(conflict)

    taught = defaultdict(set)
    for session_id, person_id in db.session.execute(
        sa.select(session_trainers.c.session_id, session_trainers.c.person_id).where(
            session_trainers.c.person_id.in_([keep.id, duplicate.id])
        )
    ):
        taught[person_id].add(session_id)
    certificates = list(
        db.session.scalars(
            sa.select(Certificate.id)
            .where(Certificate.person_id == duplicate.id)
            .order_by(Certificate.id)
        )
    )
    fields_filled = {
        name: getattr(duplicate, name)
        for name in FILLABLE
        if not getattr(keep, name) and getattr(duplicate, name)
    }
    notes_appended = bool(duplicate.notes and keep.notes and duplicate.notes != keep.notes)
    if duplicate.notes and not keep.notes:
        fields_filled["notes"] = duplicate.notes
    return MergePlan(
        keep=keep,
        duplicate=duplicate,
        enrolments_moved=moved,
        attendance_moved=attendance_moved,
        conflicts=conflicts,
        sessions_moved=sorted(taught[duplicate.id] - taught[keep.id]),
        sessions_shared=sorted(taught[duplicate.id] & taught[keep.id]),
        certificates=certificates,
        user=users.get(duplicate.id),
        fields_filled=fields_filled,
        notes_appended=notes_appended,
    )


def merge_people(
    keep: Person,
    duplicate: Person,
    actor: User | None,
    programme_ids: Collection[int] | None = None,
) -> MergePlan:
    """Merge ``duplicate`` into ``keep`` so that nothing is lost (see ``plan_merge``).

    Enrolments, attendance, sessions taught, certificates and the user account move to
    ``keep``; empty fields of ``keep`` are filled from ``duplicate``, which stays as a
    record pointing at ``keep`` (``merged_into_id``) with its e-mail cleared. Audited;
    the caller commits (one transaction)."""
    plan = plan_merge(keep, duplicate, programme_ids)
    changes = _merge_changes(plan)
    summary = f"Merged #{duplicate.id} {duplicate.full_name} into #{keep.id} {keep.full_name}"
    db.session.flush()
    execute = db.session.execute
    options = {"synchronize_session": False}

    for conflict in plan.conflicts:
        kept, dropped = conflict.kept.id, conflict.dropped.id
        if conflict.attendance_moved:
            execute(
                sa.update(AttendanceRecord)
                .where(AttendanceRecord.id.in_([r.id for r in conflict.attendance_moved]))
                .values(enrolment_id=kept),
                execution_options=options,
            )
        execute(
            sa.update(Certificate)
            .where(Certificate.enrolment_id == dropped)
            .values(enrolment_id=kept),
            execution_options=options,
        )
        execute(
            sa.delete(AttendanceRecord).where(AttendanceRecord.enrolment_id == dropped),
            execution_options=options,
        )
        execute(sa.delete(Enrolment).where(Enrolment.id == dropped), execution_options=options)
        db.session.expunge(conflict.dropped)  # gone from the database; keep it readable

    # Every enrolment still on the duplicate (the moved ones and the conflicts it won).
    execute(
        sa.update(Enrolment).where(Enrolment.person_id == duplicate.id).values(person_id=keep.id),
        execution_options=options,
    )
    if plan.sessions_shared:
        execute(
            sa.delete(session_trainers).where(
                session_trainers.c.person_id == duplicate.id,
                session_trainers.c.session_id.in_(plan.sessions_shared),
            )
        )
    if plan.sessions_moved:
        execute(
            sa.update(session_trainers)
            .where(session_trainers.c.person_id == duplicate.id)
            .values(person_id=keep.id)
        )
    if plan.certificates:
        execute(
            sa.update(Certificate)
            .where(Certificate.person_id == duplicate.id)
            .values(person_id=keep.id),
            execution_options=options,
        )
    if plan.user is not None:
        execute(
            sa.update(User).where(User.id == plan.user.id).values(person_id=keep.id),
            execution_options=options,
        )
    # Records merged earlier into the duplicate now point at the kept record.
    execute(
        sa.update(Person)
        .where(Person.merged_into_id == duplicate.id)
        .values(merged_into_id=keep.id),
        execution_options=options,
    )
    db.session.expire_all()

    duplicate.merged_into_id = keep.id
    duplicate.email = None  # frees the unique e-mail for the kept record
    db.session.flush()
    for name, value in plan.fields_filled.items():
        setattr(keep, name, value)
    if plan.notes_appended:
        keep.notes = f"{keep.notes}\n\n{duplicate.notes}"
    db.session.flush()

    audit.record("person.merge", actor=actor, obj=keep, changes=changes, summary=summary)
    return plan


def _merge_changes(plan: MergePlan) -> dict[str, Any]:
    return {
        "duplicate_id": plan.duplicate.id,
        "enrolments_moved": [e.id for e in plan.enrolments_moved],
        "attendance_moved_with_enrolments": plan.attendance_moved,
        "enrolments_merged": [
            {
                "cohort_id": c.cohort.id,
                "kept_enrolment_id": c.kept.id,
                "dropped_enrolment_id": c.dropped.id,
                "dropped_status": c.dropped.status.value,
                "attendance_moved": [r.id for r in c.attendance_moved],
                "attendance_dropped": [
                    {"session_id": r.session_id, "status": r.status.value}
                    for r in c.attendance_dropped
                ],
            }
            for c in plan.conflicts
        ],
        "sessions_taught_moved": plan.sessions_moved,
        "sessions_taught_already": plan.sessions_shared,
        "certificates_moved": plan.certificates,
        "user_moved": plan.user.id if plan.user else None,
        "fields_filled": {k: _snapshot(v) for k, v in plan.fields_filled.items()},
        "notes_appended": plan.notes_appended,
    }
