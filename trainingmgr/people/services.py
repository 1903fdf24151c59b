"""The people directory: search, create and edit people, the person page, and merging two
records of the same person. Callers commit."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from trainingmgr.accounts.models import User
from trainingmgr.attendance.models import ATTENDED, AttendanceRecord
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import (
    Cohort,
    Enrolment,
    Session,
    session_trainers,
)
from trainingmgr.core.cache import TimedCache
from trainingmgr.core.countries import country_code, country_key, country_names
from trainingmgr.core.errors import Checks, DomainError
from trainingmgr.core.labels import country_label
from trainingmgr.core.pagination import DEFAULT_PER_PAGE, Page, paginate
from trainingmgr.core.scope import in_programmes, scope_cohort_ids, visible_people
from trainingmgr.core.text import clean_text, fold_query
from trainingmgr.core.types import Choice
from trainingmgr.extensions import db
from trainingmgr.people import signals
from trainingmgr.people.models import Person, Sex

# --- countries -------------------------------------------------------------------------


def country_name(code: str | None) -> str:
    """The English short name of an ISO 3166 alpha-2 code ("AZ" -> "Azerbaijan")."""
    if not code:
        return ""
    return country_names().get(code.upper(), code)


def country_choices() -> list[tuple[str, str]]:
    """Every known country as ``(code, name)``, sorted by name."""
    return sorted(country_names().items(), key=lambda item: country_key(item[1]))


def normalise_country(value: str | None, field_name: str = "country") -> str | None:
    """An ISO 3166 alpha-2 code (or XK) from a code ("az", "AZE") or a name in any language
    ``core.countries`` knows ("Azerbaijan", "Азербайджан", "England"); None when empty."""
    text = (value or "").strip()
    if not text:
        return None
    code = country_code(text)
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
        return sorted(named, key=lambda item: country_key(item[1]))


# The directory counts its results up to this many ("more than 1,000"): an exact count of
# 100,000 people in a coordinator's scope costs more than the page.
DIRECTORY_COUNT_LIMIT = 1000

# The filter menus scan every person in scope: they are kept per scope for a minute, and
# dropped by this process as soon as it writes people, enrolments or sessions.
OPTIONS_TTL = 60.0
_options: TimedCache[tuple[int, ...] | None, DirectoryOptions] = TimedCache(
    OPTIONS_TTL, Person, Enrolment, Session
)


def directory_options(programme_ids: Collection[int] | None = None) -> DirectoryOptions:
    """The countries and organisations that occur among (unmerged) people in the scope of
    ``programme_ids`` (everyone: None), for filters (cached for ``OPTIONS_TTL`` seconds)."""
    key = None if programme_ids is None else tuple(sorted(programme_ids))
    return _options.get(key, lambda: _directory_options(programme_ids))


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


def _unused_email(value: str | None, person_id: int | None) -> str | None:
    """A valid address (``normalise_email``) that is no other person's."""
    email = normalise_email(value)
    if email:
        owner = db.session.scalar(sa.select(Person).where(Person.email == email))
        if owner is not None and owner.id != person_id:
            raise DomainError(
                _(
                    "This e-mail already belongs to %(name)s (#%(id)s).",
                    name=owner.full_name,
                    id=owner.id,
                ),
                "email",
            )
    return email


def _clean(data: PersonData, person_id: int | None) -> dict[str, Any]:
    """The values to store; every refusal at once (``FieldErrors``)."""
    values: dict[str, Any] = {name: _text(getattr(data, name)) for name in EDITABLE}
    values["notes"] = unicodedata.normalize("NFC", data.notes or "").strip() or None
    checks = Checks()
    if not values["first_name"] and not values["last_name"]:
        checks.add(_("Enter a first name or a last name."), "first_name")
    for name, limit in _MAX_LENGTH.items():
        if len(values[name]) > limit:
            checks.add(_("Too long: at most %(limit)s characters.", limit=limit), name)
    if not checks.failed("email"):
        values["email"] = checks.run(_unused_email, values["email"], person_id)
    if values["sex"] and values["sex"] not in Sex._value2member_map_:
        checks.add(_("Choose one of the listed options."), "sex")
    values["country"] = checks.run(normalise_country, values["country"])
    checks.done()
    values["sex"] = Sex(values["sex"]) if values["sex"] else None
    for name in ("name_latin", "organisation", "position", "phone"):
        values[name] = values[name] or None
    return values


def check_person(data: PersonData, person_id: int | None = None) -> None:
    """Validate ``data`` as a person's values, writing nothing (``FieldErrors``)."""
    _clean(data, person_id)


def _snapshot(value: Any) -> Any:
    return value.value if isinstance(value, Sex) else value


def addresses_given(person_ids: Collection[int], *, actor: User | None) -> None:
    """Tell the other domains that these people were given an e-mail address (added with one,
    changed to one, or imported): the accounts domain links an account with that address
    and no person record (``people.signals.addresses_given``)."""
    if person_ids:
        signals.addresses_given.send(sorted(person_ids), actor=actor)


def create_person(data: PersonData, *, actor: User | None) -> Person:
    """A new person from ``data`` (validated, names kept as typed); an account with their
    e-mail address and no person record becomes theirs (``addresses_given``)."""
    values = _clean(data, None)
    person = Person(**values)
    audit.record_created(
        "person.create",
        person,
        actor=actor,
        changes={k: _snapshot(v) for k, v in values.items() if v is not None},
        summary=person.full_name,
    )
    if person.email:
        addresses_given([person.id], actor=actor)
    return person


def update_person(person: Person, data: PersonData, *, actor: User | None) -> dict[str, list[Any]]:
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
        if "email" in changes and person.email:
            addresses_given([person.id], actor=actor)
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


def person_detail(
    person_id: int, programme_ids: Collection[int] | None = None
) -> PersonDetail | None:
    """Everything the person page shows, in a fixed number of queries (None: no such
    person). With ``programme_ids`` (a coordinator's programmes; None: all), only those
    programmes' cohorts are shown."""
    person = db.session.get(Person, person_id)
    if person is None:
        return None
    in_scope = in_programmes(Cohort.programme_id, programme_ids)
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


# --- merging: trainingmgr.people.merge (re-exported here for the views and the CLI) ------

from trainingmgr.people.merge import (  # noqa: E402,F401
    MergePlan,
    merge_people,
    plan_merge,
)
