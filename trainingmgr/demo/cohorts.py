"""The nine demo cohorts: their schedules (relative to the day of loading), trainers and
participants' profile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from trainingmgr.attendance.models import AttendanceSource
from trainingmgr.cohorts.models import DeliveryMode
from trainingmgr.demo.accounts import TRAINER_EMAIL
from trainingmgr.programmes.models import CertificateLanguage

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
