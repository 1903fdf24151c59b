"""Realistic demo data, loaded by ``flask --app app demo``. Safe to run again.

What is loaded (see ``docs/architecture.md`` and ``DESIGN.md`` for the domain):

- five programmes with their curricula: the MMDP diploma in Maastricht, the four MMPAF
  online courses, the Gambia training in Banjul, the RTCM training of trainers (ToT) in Baku
  and the RTCM national roll-outs (Baku in Azerbaijani, Bishkek in Russian) delivered by
  ToT graduates;
- nine cohorts in their own time zones. Dates are computed from the day of loading, so the
  home pages always have something to show: the MMDP is under way (sessions today and in
  the coming days), the Baku roll-out had its first day a few days ago and has its second
  day in a few days, some cohorts are finished (with attendance and completion) and some
  are upcoming;
- some 240 participants (about 230 of them with a seat) named in their own scripts, a
  handful of trainers, and the five demo accounts of ``DEMO_ACCOUNTS`` (password
  ``demo-password``).

People and enrolments come from ``trainingmgr/data/*.csv`` and a seeded generator: the
same people on every run, whatever the day. Idempotency goes by natural keys: programme
code, module (programme, code), person e-mail, account e-mail and cohort (programme, name).
A cohort that exists already is left as it is (its sessions, enrolments and attendance are
only created together with it), so loading twice, or on another day, adds nothing.
"""

from __future__ import annotations

import csv
import math
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from anyascii import anyascii
from flask import current_app

from trainingmgr.accounts import services as accounts
from trainingmgr.accounts.models import Role, User
from trainingmgr.attendance.models import (
    ATTENDED,
    AttendanceRecord,
    AttendanceSource,
    AttendanceStatus,
)
from trainingmgr.certificates import services as certificates
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import (
    Cohort,
    CohortStatus,
    DeliveryMode,
    Enrolment,
    EnrolmentStatus,
    Session,
    session_trainers,
)
from trainingmgr.core.types import utcnow
from trainingmgr.evaluations import demo as evaluation_demo
from trainingmgr.extensions import db
from trainingmgr.mail.models import OutboxMessage, OutboxStatus
from trainingmgr.organisation import services as organisation
from trainingmgr.people.models import Person, Sex
from trainingmgr.programmes.models import (
    CertificateLanguage,
    Module,
    PartnerRole,
    Programme,
    ProgrammeKind,
    ProgrammePartner,
)

DATA_DIR = Path(__file__).parent / "data"
PASSWORD = "demo-password"
# Seeds the generated people: fixed, so every run plans exactly the same people.
SEED = 20261123

TRAINER_EMAIL = "trainer@example.org"
PARTICIPANT_EMAIL = "participant@example.org"
COORDINATOR_EMAIL = "coordinator@example.org"
SECOND_COORDINATOR_EMAIL = "coordinator2@example.org"
# Who coordinates which demo programme: the first coordinator all but the Gambia training,
# which only the second one coordinates, so each sees a different part of the demo.
COORDINATED = {
    COORDINATOR_EMAIL: ("MMDP", "MMPAF", "RTCM-TOT", "RTCM-RO"),
    SECOND_COORDINATOR_EMAIL: ("GAMBIA",),
}


# --------------------------------------------------------------------------- accounts


@dataclass(frozen=True)
class _Account:
    email: str
    role: Role
    display_name: str
    person_email: str | None
    description: str


_ACCOUNTS = (
    _Account("admin@example.org", Role.ADMIN, "Demo administrator", None, "administrator"),
    _Account(
        COORDINATOR_EMAIL,
        Role.COORDINATOR,
        "Katarina Novak",
        None,
        "coordinator of every demo programme but the Gambia training",
    ),
    _Account(
        SECOND_COORDINATOR_EMAIL,
        Role.COORDINATOR,
        "Fatou Ceesay",
        None,
        "coordinator of the Gambia training only",
    ),
    _Account(
        TRAINER_EMAIL,
        Role.TRAINER,
        "",
        TRAINER_EMAIL,
        "trainer: Elvin Quliyev (RTCM roll-out in Baku, MMDP)",
    ),
    _Account(
        PARTICIPANT_EMAIL,
        Role.PARTICIPANT,
        "",
        PARTICIPANT_EMAIL,
        "participant: Ləman Əliyeva (RTCM roll-out in Baku)",
    ),
)

# (e-mail, what the account is), printed by ``flask --app app demo``.
DEMO_ACCOUNTS: list[tuple[str, str]] = [(a.email, a.description) for a in _ACCOUNTS]


# ------------------------------------------------------------------ programmes, curricula

# Topic key -> (title, competence area, description).
_TOPICS = {
    "scale": (
        "Scale and nature of international migration",
        "Migration governance",
        "Trends and drivers: who migrates, where and why, and how migration is measured.",
    ),
    "law": (
        "International migration law",
        "Law and rights",
        "Sources of international migration law, state sovereignty and migrants' rights.",
    ),
    "protection": (
        "International protection",
        "Law and rights",
        "Refugee law, asylum procedures, non-refoulement and complementary protection.",
    ),
    "gcm": (
        "Global Compact for Migration",
        "Migration governance",
        "The 23 objectives of the Global Compact for Safe, Orderly and Regular Migration "
        "and how states implement and review them.",
    ),
    "readmission": (
        "Readmission",
        "Return and readmission",
        "Readmission agreements, identification, travel documents and reintegration.",
    ),
    "smuggling": (
        "Countering migrant smuggling",
        "Borders and security",
        "The Smuggling Protocol, investigation and prosecution, protecting smuggled migrants.",
    ),
    "mobility": (
        "Legal mobility",
        "Mobility and development",
        "Labour migration schemes, visa facilitation and skills partnerships.",
    ),
    "development": (
        "Migration and development",
        "Mobility and development",
        "Remittances, diaspora engagement and migration in development planning.",
    ),
    "method": (
        "Adult learning and facilitation",
        "Training methodology",
        "How adults learn, interactive methods, session planning and facilitation.",
    ),
    "practice": (
        "Practice training and feedback",
        "Training methodology",
        "Each participant delivers a roll-out session and receives feedback.",
    ),
}


@dataclass(frozen=True)
class _ModuleDef:
    code: str
    title: str
    area: str
    hours: Decimal
    description: str


def _module(code: str, topic: str, hours: str) -> _ModuleDef:
    title, area, description = _TOPICS[topic]
    return _ModuleDef(code, title, area, Decimal(hours), description)


def _modules(prefix: str, spec: str) -> tuple[_ModuleDef, ...]:
    """Modules ``PREFIX-01``... from "topic:hours topic:hours ..." in teaching order."""
    pairs = [item.split(":") for item in spec.split()]
    return tuple(_module(f"{prefix}-{i:02d}", t, h) for i, (t, h) in enumerate(pairs, start=1))


@dataclass(frozen=True)
class _ProgrammeDef:
    code: str
    title: str
    kind: ProgrammeKind
    description: str
    modules: tuple[_ModuleDef, ...]
    partners: tuple[tuple[str, PartnerRole, Decimal | None], ...] = ()
    budget: Decimal | None = None
    currency: str | None = None
    target_regions: str = ""
    min_attendance_pct: int = 80
    certificate_language: CertificateLanguage = CertificateLanguage.EN


_ROLLOUT_MODULES = (
    _ModuleDef(
        "NRO-01",
        "Scale and nature of international migration; the Global Compact for Migration",
        "Migration governance",
        Decimal("3.5"),
        "Migration trends and the objectives of the Global Compact, for national audiences.",
    ),
    _ModuleDef(
        "NRO-02",
        "International migration law and international protection",
        "Law and rights",
        Decimal("3.5"),
        "The legal framework: migrants' rights, asylum and non-refoulement.",
    ),
    _ModuleDef(
        "NRO-03",
        "Countering migrant smuggling and readmission",
        "Borders and security",
        Decimal("3.5"),
        "Identifying smuggling, protecting smuggled migrants, readmission procedures.",
    ),
    _ModuleDef(
        "NRO-04",
        "Legal mobility, migration and development",
        "Mobility and development",
        Decimal("3.5"),
        "Legal pathways, labour migration and the development impact of migration.",
    ),
)

_PROGRAMMES = (
    _ProgrammeDef(
        "MMDP",
        "Migration Management Diploma Programme",
        ProgrammeKind.DIPLOMA,
        "A full-time, three-month diploma in Maastricht for civil servants from partner "
        "countries, delivered with UNU-MERIT and Maastricht University.",
        _modules(
            "MMDP",
            "scale:42 law:56 protection:56 gcm:49 readmission:49 smuggling:56 mobility:56 "
            "development:56",
        ),
        partners=(
            ("UNU-MERIT", PartnerRole.PARTNER, None),
            ("Maastricht University", PartnerRole.PARTNER, None),
            (
                "European Union, Asylum, Migration and Integration Fund (AMIF)",
                PartnerRole.FUNDER,
                Decimal("94.91"),
            ),
        ),
        budget=Decimal("1319151.36"),
        currency="EUR",
        target_regions="Eastern Partnership, Central Asia, Middle East, North Africa, "
        "West and East Africa",
    ),
    _ProgrammeDef(
        "MMPAF",
        "Moving the Migration Policy Agenda Forward",
        ProgrammeKind.ONLINE_COURSE,
        "Four one-week online courses for middle and senior civil servants.",
        _modules(
            "MMPAF",
            "scale:10 gcm:10 law:10 protection:10 readmission:10 smuggling:10 mobility:10 "
            "development:10",
        ),
        target_regions="Eastern Partnership, Central Asia, Middle East, Africa",
    ),
    _ProgrammeDef(
        "GAMBIA",
        "Migration management training for The Gambia",
        ProgrammeKind.WORKSHOP,
        "A two-week training for senior civil servants in Banjul, tailored from the MMDP "
        "curriculum.",
        _modules(
            "GAM",
            "scale:10.5 law:10.5 protection:10.5 gcm:7 readmission:10.5 smuggling:10.5 "
            "development:10.5",
        ),
        partners=(("Gambia Immigration Department", PartnerRole.PARTNER, None),),
        target_regions="West Africa",
    ),
    _ProgrammeDef(
        "RTCM-TOT",
        "RTCM training of trainers",
        ProgrammeKind.TRAINING_OF_TRAINERS,
        "A five-day training of trainers at the Regional Training Centre on Migration in "
        "Baku, for officials of 11 countries who then deliver national roll-out trainings.",
        _modules(
            "TOT",
            "method:3.5 scale:3.5 law:3.5 protection:3.5 gcm:3.5 readmission:3.5 smuggling:3.5 "
            "mobility:3.5 development:3.5 practice:3.5",
        ),
        partners=(
            ("State Migration Service of the Republic of Azerbaijan", PartnerRole.PARTNER, None),
        ),
        target_regions="South Caucasus, Central Asia, Eastern Europe",
        min_attendance_pct=90,
        certificate_language=CertificateLanguage.EN_AZ,
    ),
    _ProgrammeDef(
        "RTCM-RO",
        "RTCM national roll-out trainings",
        ProgrammeKind.ROLLOUT,
        "Two-day national trainings delivered by graduates of the RTCM training of trainers "
        "for junior officials, migration-school students and volunteers, in Azerbaijani or "
        "Russian.",
        _ROLLOUT_MODULES,
        partners=(
            ("State Migration Service of the Republic of Azerbaijan", PartnerRole.PARTNER, None),
        ),
        target_regions="South Caucasus, Central Asia",
        min_attendance_pct=75,
    ),
)


# ----------------------------------------------------------------------------- cohorts

FULL_DAY = ((time(9, 0), time(12, 30)), (time(13, 30), time(17, 0)))
ONLINE_DAY = ((time(10, 0), time(12, 0)), (time(13, 0), time(15, 0)))
ROLLOUT_DAY = ((time(9, 30), time(13, 0)), (time(14, 0), time(17, 30)))

_ANOUK = "anouk.devries@example.org"
_JONAS = "jonas.verbeek@example.org"
_CLARA = "clara.hoffmann@example.org"
_SAMUEL = "samuel.mensah@example.org"
_ZOE = "zoe.muller@example.org"
_JEAN_LUC = "jeanluc.oneill@example.org"
_NIGAR = "nigar.huseynova@example.org"
_ELVIN = TRAINER_EMAIL
_GULNARE = "gulnare.hasanova@example.org"
_RASHAD = "rashad.mammadov@example.org"
_AIGUL = "aigul.osmonova@example.org"
_NURLAN = "nurlan.zheenbekov@example.org"
_ASEL = "asel.nurlanova@example.org"


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _winter_break(day: date) -> bool:
    return (day.month, day.day) >= (12, 24) or (day.month, day.day) <= (1, 1)


def _weekdays(start: date, count: int) -> list[date]:
    """``count`` working days from ``start``: no weekends, no training from 24 Dec to 1 Jan."""
    days: list[date] = []
    day = start
    while len(days) < count:
        if day.weekday() < 5 and not _winter_break(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _week(weeks: int, count: int) -> Callable[[date], list[date]]:
    """``count`` weekdays from the Monday ``weeks`` weeks from the week of loading."""
    return lambda today: _weekdays(_monday(today) + timedelta(weeks=weeks), count)


def _in_progress_rollout(today: date) -> list[date]:
    """Two days a week apart: the first 3 to 5 days ago, the second 2 to 4 days ahead."""
    first = today - timedelta(days=3)
    while first.weekday() >= 5:
        first -= timedelta(days=1)
    return [first, first + timedelta(days=7)]


@dataclass(frozen=True)
class _CohortDef:
    key: str
    programme: str
    name: str
    days: Callable[[date], list[date]]
    slots: tuple[tuple[time, time], ...]
    timezone: str
    modules: tuple[str, ...]  # in teaching order; each fills (hours / slot length) sessions
    trainers: dict[str, tuple[str, ...]]  # module code -> trainers' e-mails
    # Participants: the curated ones (people.csv "cohorts" column), ``alumni`` people taken
    # from earlier cohorts, and generated people from ``countries`` for the remaining seats.
    size: int  # enrolled (or completed) people
    countries: tuple[str, ...]
    level: str
    venue: str = ""
    city: str = ""
    country: str | None = None
    mode: DeliveryMode = DeliveryMode.IN_PERSON
    online_url: str | None = None
    language: str = "en"
    certificate_language: CertificateLanguage = CertificateLanguage.EN
    min_attendance_pct: int = 80
    required_modules: tuple[str, ...] = ()
    parent: str | None = None
    alumni_from: tuple[str, ...] = ()
    alumni: int = 0
    applied: int = 0
    withdrawn: int = 0
    waitlisted: int = 0
    weak: int = 0  # participants who miss about half of the sessions
    # The latest past sessions whose attendance the trainers have not entered yet.
    unrecorded: int = 0
    session_titles: dict[str, str] = field(default_factory=dict)
    source: AttendanceSource = AttendanceSource.ROSTER


def _codes(spec: str) -> tuple[str, ...]:
    return tuple(spec.split())


_MMDP_COUNTRIES = _codes("AM AZ GE MD UA KG KZ UZ TJ TM IQ JO LB EG MA TN NG GH SN GM ET IR PK")
_MMPAF_COUNTRIES = (*_MMDP_COUNTRIES, "BY", "TR")


def _mmpaf(
    n: int, name: str, topics: tuple[int, int], weeks: int, trainers: tuple[str, ...], **kw: Any
) -> _CohortDef:
    """One of the four one-week MMPAF online courses (30 seats each)."""
    codes = tuple(f"MMPAF-{t:02d}" for t in topics)
    return _CohortDef(
        key=f"mmpaf-{n}",
        programme="MMPAF",
        name=f"Course {n}: {name}",
        days=_week(weeks, 5),
        slots=ONLINE_DAY,
        timezone="Europe/Brussels",
        modules=codes,
        trainers=dict.fromkeys(codes, trainers),
        size=30,
        countries=_MMPAF_COUNTRIES,
        level="middle",
        mode=DeliveryMode.ONLINE,
        online_url=f"https://meet.example.org/mmpaf-course-{n}",
        required_modules=(),
        source=AttendanceSource.IMPORT,
        **kw,
    )


_ROLLOUT_TRAINERS_BAKU = {
    "NRO-01": (_ELVIN, _GULNARE),
    "NRO-02": (_RASHAD,),
    "NRO-03": (_ELVIN, _RASHAD),
    "NRO-04": (_GULNARE,),
}
_ROLLOUT_TRAINERS_BISHKEK = {
    "NRO-01": (_AIGUL,),
    "NRO-02": (_NURLAN,),
    "NRO-03": (_ASEL, _NURLAN),
    "NRO-04": (_AIGUL, _ASEL),
}

# In creation order: a parent cohort and alumni sources come before the cohorts using them.
_COHORTS = (
    _CohortDef(
        key="tot",
        programme="RTCM-TOT",
        name="Baku ToT for 11 countries",
        days=_week(-6, 5),
        slots=FULL_DAY,
        timezone="Asia/Baku",
        modules=tuple(f"TOT-{i:02d}" for i in range(1, 11)),
        trainers={
            "TOT-01": (_NIGAR, _ZOE),
            "TOT-02": (_NIGAR,),
            "TOT-03": (_CLARA,),
            "TOT-04": (_CLARA,),
            "TOT-05": (_NIGAR,),
            "TOT-06": (_ZOE,),
            "TOT-07": (_ZOE,),
            "TOT-08": (_SAMUEL,),
            "TOT-09": (_SAMUEL,),
            "TOT-10": (_NIGAR, _ZOE),
        },
        size=24,
        countries=("KZ", "TM"),
        level="middle",
        venue="Regional Training Centre on Migration",
        city="Baku",
        country="AZ",
        certificate_language=CertificateLanguage.EN_AZ,
        min_attendance_pct=90,
        required_modules=("TOT-01", "TOT-10"),
        weak=1,
    ),
    _CohortDef(
        key="ro-baku",
        programme="RTCM-RO",
        name="Azerbaijan: Baku (in Azerbaijani)",
        days=_in_progress_rollout,
        slots=ROLLOUT_DAY,
        timezone="Asia/Baku",
        modules=("NRO-01", "NRO-02", "NRO-03", "NRO-04"),
        trainers=_ROLLOUT_TRAINERS_BAKU,
        size=20,
        countries=("AZ",),
        level="junior",
        venue="State Migration Service Training Centre",
        city="Baku",
        country="AZ",
        language="az",
        certificate_language=CertificateLanguage.AZ,
        min_attendance_pct=75,
        parent="tot",
        withdrawn=1,
        session_titles={
            "NRO-01": "Beynəlxalq miqrasiyanın miqyası və mahiyyəti; Miqrasiya üzrə Qlobal Saziş",
            "NRO-02": "Beynəlxalq miqrasiya hüququ və beynəlxalq müdafiə",
            "NRO-03": "Miqrantların qaçaqmalçılığına qarşı mübarizə və readmissiya",
            "NRO-04": "Qanuni mobillik, miqrasiya və inkişaf",
        },
    ),
    _CohortDef(
        key="ro-bishkek",
        programme="RTCM-RO",
        name="Kyrgyzstan: Bishkek (in Russian)",
        days=lambda today: _weekdays(_monday(today) + timedelta(weeks=2, days=3), 2),
        slots=ROLLOUT_DAY,
        timezone="Asia/Bishkek",
        modules=("NRO-01", "NRO-02", "NRO-03", "NRO-04"),
        trainers=_ROLLOUT_TRAINERS_BISHKEK,
        size=20,
        countries=("KG",),
        level="junior",
        venue="State Migration Service, conference hall",
        city="Bishkek",
        country="KG",
        mode=DeliveryMode.HYBRID,
        online_url="https://meet.example.org/rtcm-rollout-bishkek",
        language="ru",
        certificate_language=CertificateLanguage.RU,
        min_attendance_pct=75,
        parent="tot",
        waitlisted=2,
        session_titles={
            "NRO-01": "Масштабы и характер международной миграции; Глобальный договор о миграции",
            "NRO-02": "Международное миграционное право и международная защита",
            "NRO-03": "Противодействие незаконному ввозу мигрантов и реадмиссия",
            "NRO-04": "Легальная мобильность, миграция и развитие",
        },
    ),
    _CohortDef(
        key="gambia",
        programme="GAMBIA",
        name="Banjul, senior officials",
        days=_week(-9, 10),
        slots=FULL_DAY,
        timezone="Africa/Banjul",
        modules=tuple(f"GAM-{i:02d}" for i in range(1, 8)),
        trainers={
            "GAM-01": (_ANOUK,),
            "GAM-02": (_JONAS,),
            "GAM-03": (_JONAS,),
            "GAM-04": (_ANOUK,),
            "GAM-05": (_CLARA,),
            "GAM-06": (_CLARA,),
            "GAM-07": (_SAMUEL,),
        },
        size=15,
        countries=("GM",),
        level="senior",
        venue="Gambia Immigration Department Training School",
        city="Banjul",
        country="GM",
        required_modules=("GAM-03",),
        weak=1,
    ),
    _mmpaf(
        1,
        "Migration trends and the Global Compact",
        (1, 2),
        -11,
        (_SAMUEL, _ANOUK),
        withdrawn=1,
        weak=2,
    ),
    _mmpaf(
        2,
        "Migration law and international protection",
        (3, 4),
        -4,
        (_JONAS, _JEAN_LUC),
        weak=1,
    ),
    _mmpaf(
        3,
        "Readmission and countering migrant smuggling",
        (5, 6),
        1,
        (_ZOE,),
        withdrawn=1,
        waitlisted=2,
    ),
    _mmpaf(4, "Legal mobility and development", (7, 8), 5, (_SAMUEL,), applied=4),
    _CohortDef(
        key="mmdp-5",
        programme="MMDP",
        name="Fifth edition",
        days=_week(-7, 60),
        slots=FULL_DAY,
        timezone="Europe/Amsterdam",
        modules=tuple(f"MMDP-{i:02d}" for i in range(1, 9)),
        trainers={
            "MMDP-01": (_ANOUK,),
            "MMDP-02": (_JONAS,),
            "MMDP-03": (_CLARA, _JONAS),
            "MMDP-04": (_SAMUEL,),
            "MMDP-05": (_ELVIN, _ZOE),
            "MMDP-06": (_ELVIN, _CLARA),
            "MMDP-07": (_ANOUK, _JEAN_LUC),
            "MMDP-08": (_SAMUEL,),
        },
        size=50,
        countries=_MMDP_COUNTRIES,
        level="middle",
        venue="UNU-MERIT, Boschstraat 24",
        city="Maastricht",
        country="NL",
        required_modules=("MMDP-02", "MMDP-03"),
        alumni_from=("mmpaf-1", "mmpaf-2"),  # the MMPAF is where many MMDP candidates start
        alumni=20,
        withdrawn=1,
        waitlisted=3,
        weak=2,
        unrecorded=1,
    ),
)


# ------------------------------------------------------------------------------ people

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


def _plan_people() -> _PeoplePlan:
    """Everyone the demo holds and who is enrolled where. Independent of the date."""
    rng = random.Random(SEED)
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


# ------------------------------------------------------------------- sessions, attendance


@dataclass(frozen=True)
class _SessionPlan:
    starts_at: datetime
    ends_at: datetime
    module: str
    trainers: tuple[str, ...]


def _module_hours() -> dict[str, Decimal]:
    return {m.code: m.hours for p in _PROGRAMMES for m in p.modules}


def _plan_sessions(cdef: _CohortDef, today: date) -> list[_SessionPlan]:
    """Weekday sessions at local times in the cohort's zone, stored in UTC."""
    tz = ZoneInfo(cdef.timezone)
    hours = _module_hours()
    slot_hours = {
        Decimal((datetime.combine(today, b) - datetime.combine(today, a)).seconds) / 3600
        for a, b in cdef.slots
    }
    if len(slot_hours) != 1:
        raise ValueError(f"{cdef.key}: all slots of a day must have the same length")
    per_slot = slot_hours.pop()
    if any(hours[code] % per_slot for code in cdef.modules):
        raise ValueError(f"{cdef.key}: module hours must be whole numbers of sessions")
    modules = [code for code in cdef.modules for _ in range(int(hours[code] / per_slot))]
    days = cdef.days(today)
    if len(modules) != len(days) * len(cdef.slots):
        raise ValueError(f"{cdef.key}: the module hours do not fill the days")
    plans: list[_SessionPlan] = []
    for day in days:
        for start, end in cdef.slots:
            code = modules[len(plans)]
            plans.append(
                _SessionPlan(
                    datetime.combine(day, start, tz).astimezone(UTC),
                    datetime.combine(day, end, tz).astimezone(UTC),
                    code,
                    cdef.trainers.get(code, ()),
                )
            )
    return plans


_EXCUSES = ("Official duty", "Medical certificate", "Family reasons", "Flight delayed")


@dataclass(frozen=True)
class _Mark:
    session: int
    enrolment: int
    status: AttendanceStatus
    note: str
    minutes_after: int


def _plan_attendance(
    cdef: _CohortDef, sessions: list[_SessionPlan], enrolments: list[_EnrolmentPlan], now: datetime
) -> list[_Mark]:
    """Marks for sessions that ended before today (in the cohort's zone), except the
    ``unrecorded`` latest ones.

    Regular participants miss few sessions and never one of a required module; weak ones
    miss about half, so completion is unambiguous whatever the exact rule.
    """
    rng = random.Random(f"{SEED}:{cdef.key}")
    tz = ZoneInfo(cdef.timezone)
    local_midnight = datetime.combine(now.astimezone(tz).date(), time(0), tz)
    recorded = [i for i, s in enumerate(sessions) if s.ends_at <= local_midnight]
    recorded = recorded[: len(recorded) - cdef.unrecorded]
    optional = [i for i in recorded if sessions[i].module not in cdef.required_modules]
    marks: list[_Mark] = []
    for e_index, enrolment in enumerate(enrolments):
        if enrolment.status != EnrolmentStatus.ENROLLED or not recorded:
            continue
        if enrolment.weak:
            missed = set(rng.sample(recorded, math.ceil(len(recorded) * 0.45)))
        else:
            most = int(len(recorded) * (100 - cdef.min_attendance_pct) * 0.006)
            missed = set(rng.sample(optional, min(len(optional), round(most * rng.random() ** 2))))
        for s_index in recorded:
            note = ""
            if s_index in missed:
                status = (
                    AttendanceStatus.EXCUSED if rng.random() < 0.35 else AttendanceStatus.ABSENT
                )
                if status == AttendanceStatus.EXCUSED:
                    note = rng.choice(_EXCUSES)
            elif rng.random() < 0.06:
                status = AttendanceStatus.LATE
                note = f"Arrived {rng.choice((10, 20, 25, 40))} minutes late"
            else:
                status = AttendanceStatus.PRESENT
            marks.append(_Mark(s_index, e_index, status, note, rng.randint(5, 90)))
    return marks


def _final_statuses(
    enrolments: list[_EnrolmentPlan], marks: list[_Mark], sessions: int, min_pct: int
) -> dict[int, EnrolmentStatus]:
    """Completed or not for every seated enrolment of a finished cohort."""
    attended = Counter(m.enrolment for m in marks if m.status in ATTENDED)
    return {
        i: EnrolmentStatus.COMPLETED
        if attended[i] * 100 >= min_pct * sessions
        else EnrolmentStatus.NOT_COMPLETED
        for i, e in enumerate(enrolments)
        if e.status == EnrolmentStatus.ENROLLED
    }


# ------------------------------------------------------------------------------ loading

_KINDS = (
    ("programmes", "programme", "programmes"),
    ("modules", "module", "modules"),
    ("cohorts", "cohort", "cohorts"),
    ("sessions", "session", "sessions"),
    ("people", "person", "people"),
    ("enrolments", "enrolment", "enrolments"),
    ("attendance", "attendance record", "attendance records"),
    ("accounts", "account", "accounts"),
    ("certificates", "certificate", "certificates"),
)


DEMO_SIGNATORIES = (
    ("Dr. Aysel Hasanova", "Director, Training Centre"),
    ("Jan de Vries", "Programme Manager"),
)


def _demo_logo() -> bytes:
    """A plain logo for the demo organisation: a dark blue square with a gold ring (PNG)."""
    from io import BytesIO

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 240), (27, 54, 93))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, 200, 200), outline=(184, 150, 62), width=14)
    draw.ellipse((96, 96, 144, 144), fill=(184, 150, 62))
    out = BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


class _Tally:
    def __init__(self) -> None:
        self.created: Counter[str] = Counter()
        self.present: Counter[str] = Counter()

    @staticmethod
    def _phrase(counts: Counter[str]) -> str:
        parts = [
            f"{counts[key]} {one if counts[key] == 1 else many}"
            for key, one, many in _KINDS
            if counts[key]
        ]
        return ", ".join(parts) if parts else "nothing"

    def summary(self, seconds: float) -> str:
        if +self.created:
            lines = [f"Demo data: created {self._phrase(self.created)} in {seconds:.1f} s."]
        else:
            lines = ["Demo data already loaded: nothing created."]
        if +self.present:
            lines.append(f"Already there, left as they were: {self._phrase(self.present)}.")
        return "\n".join(lines)


class _Loader:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self.today = now.date()
        self.tally = _Tally()
        self.plan = _plan_people()
        self.person_ids: dict[str, int] = {}
        self.users: dict[str, User] = {}
        self.programmes: dict[str, Programme] = {}
        self.modules: dict[str, Module] = {}
        self.cohort_ids: dict[str, int] = {}
        self.new_cohorts: set[str] = set()  # keys of the cohorts this run created

    def run(self) -> None:
        self._people()
        self._accounts()
        self._programmes()
        for cdef in _COHORTS:
            self._cohort(cdef)
        for email, codes in COORDINATED.items():
            coordinator = self.users[email]
            for code in codes:
                if self.programmes[code] not in coordinator.programmes:
                    coordinator.programmes.append(self.programmes[code])
        db.session.flush()
        self._certificates()
        evaluation_demo.load(
            {k: v for k, v in self.cohort_ids.items() if k in self.new_cohorts}, self.now
        )
        _access_demo(self.users[PARTICIPANT_EMAIL])

    def _signatories(self, admin: User) -> None:
        """The organisation's default signatories and logo, printed on the certificates."""
        settings = organisation.get_settings()
        if settings.logo is None:
            organisation.set_logo(settings, _demo_logo(), "image/png", actor=admin)
        if organisation.own_signatories(None):
            return
        for name, title in DEMO_SIGNATORIES:
            organisation.add_signatory(None, organisation.SignatoryInput(name, title), actor=admin)

    def _certificates(self) -> None:
        """Certificates for everyone eligible in the cohorts that are over, as a coordinator
        would have issued them. Their "certificate issued" e-mails belong to the story, not to
        this run: they are not left in the outbox."""
        admin = self.users["admin@example.org"]
        self._signatories(admin)
        finished = db.session.scalars(
            sa.select(Cohort)
            .where(Cohort.id.in_(list(self.cohort_ids.values())), Cohort.end_date < self.today)
            .order_by(Cohort.start_date, Cohort.id)
        ).all()
        for cohort in finished:
            result = certificates.issue_all_eligible(admin, cohort)
            self.tally.created["certificates"] += len(result.issued)
            self.tally.present["certificates"] += len(result.already)
        db.session.execute(
            sa.delete(OutboxMessage).where(
                OutboxMessage.kind == "certificate_issued",
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.cohort_id.in_([c.id for c in finished]),
            )
        )

    def _people(self) -> None:
        plans = self.plan.people
        existing = dict(
            db.session.execute(
                sa.select(Person.email, Person.id).where(Person.email.in_(list(plans)))
            ).all()
        )
        new = [
            Person(
                first_name=p.first_name,
                last_name=p.last_name,
                name_latin=p.name_latin,
                email=p.email,
                sex=p.sex,
                country=p.country,
                organisation=p.organisation,
                position=p.position,
            )
            for p in plans.values()
            if p.email not in existing
        ]
        db.session.add_all(new)
        db.session.flush()
        self.person_ids = {**existing, **{p.email: p.id for p in new if p.email}}
        self.tally.created["people"] += len(new)
        self.tally.present["people"] += len(existing)

    def _accounts(self) -> None:
        password_hash: str | None = None  # one (slow, salted) hash serves every demo account
        for account in _ACCOUNTS:
            user = accounts.get_user_by_email(account.email)
            if user is not None:
                self.tally.present["accounts"] += 1
            else:
                person_id = self.person_ids.get(account.person_email or "")
                if person_id is not None and db.session.scalar(
                    sa.select(User.id).where(User.person_id == person_id)
                ):
                    person_id = None  # someone else's account is linked to that person
                user = accounts.create_user(
                    account.email,
                    [account.role],
                    display_name=account.display_name,
                    person_id=person_id,
                )
                password_hash = password_hash or accounts.hash_password(PASSWORD)
                user.password_hash = password_hash
                self.tally.created["accounts"] += 1
            self.users[account.email] = user

    def _programme_period(self, code: str) -> tuple[date, date]:
        days = [d for c in _COHORTS if c.programme == code for d in c.days(self.today)]
        return min(days) - timedelta(days=60), max(days) + timedelta(days=180)

    def _programmes(self) -> None:
        existing = {
            p.code: p
            for p in db.session.scalars(
                sa.select(Programme).where(Programme.code.in_([p.code for p in _PROGRAMMES]))
            )
        }
        for pdef in _PROGRAMMES:
            programme = existing.get(pdef.code)
            if programme is None:
                start, end = self._programme_period(pdef.code)
                countries = sorted(
                    {
                        self.plan.people[e.email].country
                        for c in _COHORTS
                        if c.programme == pdef.code
                        for e in self.plan.enrolments[c.key]
                    }
                )
                programme = Programme(
                    code=pdef.code,
                    title=pdef.title,
                    kind=pdef.kind,
                    description=pdef.description,
                    budget=pdef.budget,
                    currency=pdef.currency,
                    start_date=start,
                    end_date=end,
                    target_countries=",".join(countries),
                    target_regions=pdef.target_regions,
                    default_min_attendance_pct=pdef.min_attendance_pct,
                    default_certificate_language=pdef.certificate_language,
                    partners=[
                        ProgrammePartner(name=name, role=role, funding_share=share, position=i)
                        for i, (name, role, share) in enumerate(pdef.partners)
                    ],
                )
                db.session.add(programme)
                self.tally.created["programmes"] += 1
            else:
                self.tally.present["programmes"] += 1
            have = {m.code for m in programme.modules}
            for position, mdef in enumerate(pdef.modules, start=1):
                if mdef.code in have:
                    self.tally.present["modules"] += 1
                    continue
                programme.modules.append(
                    Module(
                        code=mdef.code,
                        title=mdef.title,
                        competence_area=mdef.area,
                        hours=mdef.hours,
                        description=mdef.description,
                        position=position,
                    )
                )
                self.tally.created["modules"] += 1
            self.programmes[pdef.code] = programme
        db.session.flush()
        self.modules = {m.code: m for p in self.programmes.values() for m in p.modules}

    def _cohort(self, cdef: _CohortDef) -> None:
        programme = self.programmes[cdef.programme]
        cohort_id = db.session.scalar(
            sa.select(Cohort.id).where(
                Cohort.programme_id == programme.id, Cohort.name == cdef.name
            )
        )
        if cohort_id is not None:
            self.cohort_ids[cdef.key] = cohort_id
            self.tally.present["cohorts"] += 1
            return
        sessions = _plan_sessions(cdef, self.today)
        plans = self.plan.enrolments[cdef.key]
        marks = _plan_attendance(cdef, sessions, plans, self.now)
        finished = sessions[-1].ends_at < self.now
        statuses = (
            _final_statuses(plans, marks, len(sessions), cdef.min_attendance_pct)
            if finished
            else {}
        )
        cohort = Cohort(
            programme_id=programme.id,
            name=cdef.name,
            start_date=sessions[0].starts_at.astimezone(ZoneInfo(cdef.timezone)).date(),
            end_date=sessions[-1].starts_at.astimezone(ZoneInfo(cdef.timezone)).date(),
            timezone=cdef.timezone,
            venue=cdef.venue,
            city=cdef.city,
            country=cdef.country,
            delivery_mode=cdef.mode,
            online_url=cdef.online_url,
            capacity=cdef.size,
            language=cdef.language,
            certificate_language=cdef.certificate_language,
            status=CohortStatus.CLOSED if finished else CohortStatus.OPEN,
            min_attendance_pct=cdef.min_attendance_pct,
            min_hours=_min_hours(sessions, cdef.min_attendance_pct),
            parent_cohort_id=self.cohort_ids.get(cdef.parent) if cdef.parent else None,
            required_modules=[self.modules[code] for code in cdef.required_modules],
        )
        session_rows = [
            Session(
                cohort=cohort,
                module=self.modules[s.module],
                title=cdef.session_titles.get(s.module, ""),
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                mode=cdef.mode,
                online_url=cdef.online_url,
            )
            for s in sessions
        ]
        enrolment_rows = [
            Enrolment(
                cohort=cohort,
                person_id=self.person_ids[e.email],
                status=statuses.get(i, e.status),
                waitlist_position=e.waitlist_position,
            )
            for i, e in enumerate(plans)
        ]
        db.session.add(cohort)
        db.session.add_all(session_rows + enrolment_rows)
        db.session.flush()
        self.cohort_ids[cdef.key] = cohort.id
        self.new_cohorts.add(cdef.key)

        trainer_rows = [
            {"session_id": row.id, "person_id": self.person_ids[email]}
            for row, plan in zip(session_rows, sessions, strict=True)
            for email in plan.trainers
        ]
        if trainer_rows:
            db.session.execute(session_trainers.insert(), trainer_rows)
        trainer_user = self.users[TRAINER_EMAIL]
        coordinator = self.users[COORDINATOR_EMAIL]
        attendance_rows = [
            {
                "session_id": session_rows[m.session].id,
                "enrolment_id": enrolment_rows[m.enrolment].id,
                "cohort_id": cohort.id,
                "status": m.status,
                "note": m.note,
                "source": cdef.source,
                "recorded_by_id": trainer_user.id
                if _ELVIN in sessions[m.session].trainers
                else coordinator.id,
                "recorded_at": sessions[m.session].ends_at + timedelta(minutes=m.minutes_after),
                "version": 1,
            }
            for m in marks
        ]
        if attendance_rows:
            db.session.execute(sa.insert(AttendanceRecord), attendance_rows)
        self.tally.created["cohorts"] += 1
        self.tally.created["sessions"] += len(session_rows)
        self.tally.created["enrolments"] += len(enrolment_rows)
        self.tally.created["attendance"] += len(attendance_rows)


def _min_hours(sessions: list[_SessionPlan], pct: int) -> Decimal:
    """The hours a participant must attend: ``pct`` % of the cohort's scheduled hours."""
    seconds = sum((s.ends_at - s.starts_at).total_seconds() for s in sessions)
    return (Decimal(int(seconds)) / 3600 * pct / 100).quantize(Decimal("0.1"))


# --------------------------------------------------------------------------- access

# A participant whose cohort is over and whose certificate is issued (password sign-in), and
# an enrolled person with no account: "E-mail me a sign-in link" with that address creates it.
GRADUATE_EMAIL = "graduate@example.org"
NEW_PARTICIPANT_EMAIL = "kofi.asante@example.org"
ACCESS_ACCOUNTS: list[tuple[str, str]] = [
    (GRADUATE_EMAIL, "participant with an issued certificate (password demo-password)"),
    (NEW_PARTICIPANT_EMAIL, "enrolled, no account yet: sign in with an e-mailed link"),
]


def _access_demo(participant: User) -> None:
    """The two people of ``ACCESS_ACCOUNTS`` (idempotent)."""
    if accounts.get_user_by_email(GRADUATE_EMAIL) is None:
        holder = db.session.scalar(
            sa.select(Certificate.person_id)
            .join(Person, Person.id == Certificate.person_id)
            .where(
                Certificate.status == CertificateStatus.VALID,
                ~sa.exists().where(User.person_id == Person.id),
            )
            .order_by(Certificate.id)
            .limit(1)
        )
        if holder is not None:
            user = accounts.create_user(GRADUATE_EMAIL, [], person_id=holder)
            user.password_hash = accounts.hash_password(PASSWORD)
    cohort_id = db.session.scalar(
        sa.select(Enrolment.cohort_id)
        .where(Enrolment.person_id == participant.person_id)
        .order_by(Enrolment.id.desc())
        .limit(1)
    )
    if cohort_id is None or db.session.scalar(
        sa.select(Person.id).where(Person.email == NEW_PARTICIPANT_EMAIL)
    ):
        return
    kofi = Person(
        first_name="Kofi",
        last_name="Asante",
        email=NEW_PARTICIPANT_EMAIL,
        country="GH",
        organisation="Ghana Immigration Service",
    )
    db.session.add(kofi)
    db.session.flush()
    db.session.add(Enrolment(cohort_id=cohort_id, person_id=kofi.id))
    db.session.flush()


class DemoRefused(Exception):
    """The demo would be loaded into a production database."""


def refuse_in_production() -> None:
    """The demo creates accounts whose password is printed in the README: never in production."""
    if current_app.config.get("TRAININGMGR_ENV") == "production":
        raise DemoRefused(
            "Refused: TRAININGMGR_ENV is production. The demo creates accounts such as "
            "admin@example.org whose password is published in the README, so it never loads "
            "into a production database. Create real accounts with "
            "`flask --app app create-user EMAIL --role admin`."
        )


def load(now: datetime | None = None) -> str:
    """Load the demo data (dates relative to ``now``), commit, and say what was created.

    Raises ``DemoRefused``, writing nothing, in production.
    """
    refuse_in_production()
    started = utcnow()
    loader = _Loader(now or started)
    loader.run()
    db.session.commit()
    return loader.tally.summary((utcnow() - started).total_seconds())
