"""Demo people: the curated ones of ``trainingmgr/data/people.csv`` and seeded generated
ones named in their own scripts, who is enrolled where, and their loading."""

from __future__ import annotations

import csv
import random
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa
from anyascii import anyascii

from trainingmgr.cohorts.models import EnrolmentStatus
from trainingmgr.config import DATA_DIR
from trainingmgr.demo.cohorts import _COHORTS
from trainingmgr.extensions import db
from trainingmgr.people.models import Person, Sex

if TYPE_CHECKING:
    from trainingmgr.demo.loader import _Loader

# Seeds the generated people: fixed, so every run plans exactly the same people.
SEED = 20261123

POSITIONS = {
    "senior": (
        "Director",
        "Deputy Director",
        "Head of Department",
        "Deputy Permanent Secretary",
        "Chief Adviser",
    ),
    "middle": (
        "Head of Unit",
        "Senior Specialist",
        "Chief Specialist",
        "Senior Officer",
        "Policy Officer",
        "Senior Inspector",
        "Desk Officer",
        "Adviser",
        "Analyst",
    ),
    "junior": ("Specialist", "Junior Specialist", "Inspector", "Officer", "Assistant"),
}
# Name pools shared by several countries (the others have their own, under their code).
_POOL_OF = {
    **dict.fromkeys(("IQ", "JO", "LB", "EG"), "ar"),
    **dict.fromkeys(("MA", "TN", "LY"), "maghreb"),
}
# How often a name from a non-Latin script is written in its Latin (passport) spelling.
_LATIN_SHARE = {"ar": 0.4, "IR": 0.4, "ET": 0.4, "GE": 0.25, "AM": 0.25}


@dataclass(frozen=True)
class _PersonPlan:
    first_name: str
    last_name: str
    name_latin: str | None
    email: str
    sex: Sex
    country: str
    organisation: str
    position: str


@dataclass(frozen=True)
class _EnrolmentPlan:
    email: str
    status: EnrolmentStatus
    waitlist_position: int | None = None
    weak: bool = False


def _read_csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _is_latin(text: str) -> bool:
    return all(
        unicodedata.name(ch, "").startswith("LATIN")
        for ch in text
        if unicodedata.category(ch) in ("Lu", "Ll", "Lt", "Lo")
    )


def _latin(text: str, given: str = "") -> str:
    if given:
        return given
    latin = anyascii(text)
    return latin.title() if latin.islower() else latin


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", anyascii(text).lower())


@dataclass
class _Pool:
    given: dict[Sex, list[tuple[str, str]]] = field(
        default_factory=lambda: {Sex.MALE: [], Sex.FEMALE: []}
    )
    family: dict[Sex, list[tuple[str, str]]] = field(
        default_factory=lambda: {Sex.MALE: [], Sex.FEMALE: []}
    )


class _PeopleMaker:
    """Deterministic people: seeded combinations of given and family names per country."""

    def __init__(self, rng: random.Random, taken: dict[str, _PersonPlan]) -> None:
        self.rng = rng
        self.emails = set(taken)
        self.names = {(p.first_name, p.last_name) for p in taken.values()}
        self.pools: dict[str, _Pool] = {}
        for row in _read_csv("names.csv"):
            pool = self.pools.setdefault(row["pool"], _Pool())
            target = pool.given if row["part"] == "given" else pool.family
            for sex, col in ((Sex.MALE, "male"), (Sex.FEMALE, "female")):
                if row[col]:
                    target[sex].append((row[col], row[f"{col}_latin"]))
        self.organisations: dict[str, list[tuple[str, str]]] = {}
        for row in _read_csv("organisations.csv"):
            self.organisations.setdefault(row["country"], []).append(
                (row["organisation"], row["kind"])
            )

    def make(self, country: str, level: str) -> _PersonPlan:
        rng = self.rng
        pool_key = _POOL_OF.get(country, country)
        pool = self.pools[pool_key]
        for _attempt in range(200):
            sex = Sex.FEMALE if rng.random() < 0.5 else Sex.MALE
            first, first_latin = rng.choice(pool.given[sex])
            last, last_latin = rng.choice(pool.family[sex])
            if (first, last) not in self.names:
                break
        else:  # pragma: no cover - the pools are far larger than any cohort
            raise RuntimeError(f"the name pool of {country} is exhausted")
        first_latin, last_latin = _latin(first, first_latin), _latin(last, last_latin)
        name_latin: str | None = None
        if not _is_latin(first + last):
            if rng.random() < _LATIN_SHARE.get(pool_key, 0.1):
                first, last = first_latin, last_latin
            else:
                name_latin = f"{first_latin} {last_latin}"
        self.names.add((first, last))
        organisation, position = self._job(country, level)
        email = self._email(first_latin, last_latin)
        return _PersonPlan(first, last, name_latin, email, sex, country, organisation, position)

    def _job(self, country: str, level: str) -> tuple[str, str]:
        options = self.organisations[country]
        government = [name for name, kind in options if kind == "government"]
        others = [(name, kind) for name, kind in options if kind != "government"]
        if level == "junior" and others and self.rng.random() < 0.3:
            name, kind = self.rng.choice(others)
            return name, "Student" if kind == "university" else "Volunteer"
        return self.rng.choice(government), self.rng.choice(POSITIONS[level])

    def _email(self, first: str, last: str) -> str:
        base = f"{_slug(first)}.{_slug(last)}"
        email, n = f"{base}@example.org", 1
        while email in self.emails:
            n += 1
            email = f"{base}{n}@example.org"
        self.emails.add(email)
        return email


@dataclass
class _PeoplePlan:
    people: dict[str, _PersonPlan]
    enrolments: dict[str, list[_EnrolmentPlan]]


def _curated_people() -> tuple[dict[str, _PersonPlan], dict[str, list[str]]]:
    """The people of ``people.csv``, and the keys of the cohorts each one is in."""
    curated: dict[str, _PersonPlan] = {}
    curated_in: dict[str, list[str]] = {}
    for row in _read_csv("people.csv"):
        first, last = row["first_name"], row["last_name"]
        latin = row["name_latin"] or None
        if latin is None and not _is_latin(first + last):
            latin = f"{_latin(first)} {_latin(last)}"
        curated[row["email"]] = _PersonPlan(
            first_name=first,
            last_name=last,
            name_latin=latin,
            email=row["email"],
            sex=Sex(row["sex"]),
            country=row["country"],
            organisation=row["organisation"],
            position=row["position"],
        )
        for key in row["cohorts"].split():
            curated_in.setdefault(key, []).append(row["email"])
    return curated, curated_in


def _plan_people() -> _PeoplePlan:
    """Everyone the demo holds and who is enrolled where. Independent of the date."""
    rng = random.Random(SEED)
    curated, curated_in = _curated_people()
    people = dict(curated)
    maker = _PeopleMaker(rng, people)
    enrolments: dict[str, list[_EnrolmentPlan]] = {}
    for cdef in _COHORTS:
        members = list(curated_in.get(cdef.key, []))
        if cdef.alumni:
            candidates = sorted(
                {
                    e.email
                    for key in cdef.alumni_from
                    for e in enrolments[key]
                    if e.status == EnrolmentStatus.ENROLLED
                    and not e.weak
                    and e.email not in members
                }
            )
            members += rng.sample(candidates, cdef.alumni)
        total = cdef.size + cdef.applied + cdef.withdrawn + cdef.waitlisted
        countries = list(cdef.countries)
        rng.shuffle(countries)
        new: list[str] = []
        for i in range(total - len(members)):
            person = maker.make(countries[i % len(countries)], cdef.level)
            people[person.email] = person
            new.append(person.email)
        # The last generated people wait, withdrew or only applied; a few of the others
        # attend badly. Curated people and alumni always take part.
        seated = len(members) + len(new) - cdef.waitlisted - cdef.withdrawn - cdef.applied
        active_new = new[: seated - len(members)]
        weak = set(rng.sample(active_new, cdef.weak))
        plans = [_EnrolmentPlan(e, EnrolmentStatus.ENROLLED) for e in members]
        plans += [_EnrolmentPlan(e, EnrolmentStatus.ENROLLED, weak=e in weak) for e in active_new]
        rest = new[len(active_new) :]
        plans += [_EnrolmentPlan(e, EnrolmentStatus.APPLIED) for e in rest[: cdef.applied]]
        rest = rest[cdef.applied :]
        plans += [_EnrolmentPlan(e, EnrolmentStatus.WITHDRAWN) for e in rest[: cdef.withdrawn]]
        rest = rest[cdef.withdrawn :]
        plans += [
            _EnrolmentPlan(e, EnrolmentStatus.WAITLISTED, waitlist_position=i)
            for i, e in enumerate(rest, start=1)
        ]
        enrolments[cdef.key] = plans
    return _PeoplePlan(people, enrolments)


def load_people(loader: _Loader) -> None:
    """The planned people whose e-mail is not there yet."""
    plans = loader.plan.people
    existing = dict(
        db.session.execute(
            sa.select(Person.email, Person.id).where(Person.email.in_(list(plans)))
        ).all()
    )
    new = [Person(**asdict(p)) for p in plans.values() if p.email not in existing]
    db.session.add_all(new)
    db.session.flush()
    loader.person_ids = {**existing, **{p.email: p.id for p in new if p.email}}
    loader.tally.created["people"] += len(new)
    loader.tally.present["people"] += len(existing)
