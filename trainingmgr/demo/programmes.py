"""Demo programmes and their curricula (modules by topic), and their loading."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa

from trainingmgr.demo.cohorts import _COHORTS
from trainingmgr.demo.fields import copied
from trainingmgr.extensions import db
from trainingmgr.programmes.models import (
    CertificateLanguage,
    Module,
    PartnerRole,
    Programme,
    ProgrammeKind,
    ProgrammePartner,
)

if TYPE_CHECKING:
    from trainingmgr.demo.loader import _Loader

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
    competence_area: str
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


def _programme_period(loader: _Loader, code: str) -> tuple[date, date]:
    days = [d for c in _COHORTS if c.programme == code for d in c.days(loader.today)]
    return min(days) - timedelta(days=60), max(days) + timedelta(days=180)


def _new_programme(loader: _Loader, pdef: _ProgrammeDef) -> Programme:
    """A programme of the demo, dated and targeted after its cohorts."""
    start, end = _programme_period(loader, pdef.code)
    countries = sorted(
        {
            loader.plan.people[e.email].country
            for c in _COHORTS
            if c.programme == pdef.code
            for e in loader.plan.enrolments[c.key]
        }
    )
    return Programme(
        **copied(pdef, "code", "title", "kind", "description", "budget", "currency"),
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


def _add_modules(loader: _Loader, programme: Programme, pdef: _ProgrammeDef) -> None:
    """The modules of ``pdef`` that ``programme`` lacks, in teaching order."""
    have = {m.code for m in programme.modules}
    for position, mdef in enumerate(pdef.modules, start=1):
        if mdef.code in have:
            loader.tally.present["modules"] += 1
            continue
        programme.modules.append(Module(**asdict(mdef), position=position))
        loader.tally.created["modules"] += 1


def load_programmes(loader: _Loader) -> None:
    """The programmes and modules of the demo that are not there yet."""
    existing = {
        p.code: p
        for p in db.session.scalars(
            sa.select(Programme).where(Programme.code.in_([p.code for p in _PROGRAMMES]))
        )
    }
    for pdef in _PROGRAMMES:
        programme = existing.get(pdef.code)
        if programme is None:
            programme = _new_programme(loader, pdef)
            db.session.add(programme)
            loader.tally.created["programmes"] += 1
        else:
            loader.tally.present["programmes"] += 1
        _add_modules(loader, programme, pdef)
        loader.programmes[pdef.code] = programme
    db.session.flush()
    loader.modules = {m.code: m for p in loader.programmes.values() for m in p.modules}
