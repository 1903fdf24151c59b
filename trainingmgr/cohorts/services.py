"""Cohorts and their session schedules: every rule about creating, changing and removing them.

Functions take what they need (the acting user included), raise ``DomainError`` for bad
input, record audit events and never commit: views and the CLI commit.

Session times are entered in the cohort's local time and stored in UTC. Each date of a
series is converted on its own, so a series that crosses a daylight-saving change keeps the
same local time. A local time that does not exist (the hour skipped when clocks move
forward) is refused with a message; an ambiguous one (the hour repeated when clocks move
back) is read as its first occurrence (``fold=0``, still summer time).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pycountry
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from trainingmgr.accounts.models import Role, User, UserRole
from trainingmgr.attendance.models import AttendanceRecord
from trainingmgr.audit import services as audit
from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts.models import (
    ACTIVE_ENROLMENT,
    Cohort,
    CohortStatus,
    DeliveryMode,
    Enrolment,
    EnrolmentStatus,
    Session,
    SessionStatus,
    session_trainers,
)
from trainingmgr.core import timefmt
from trainingmgr.core.errors import DomainError
from trainingmgr.core.pagination import Page, paginate
from trainingmgr.core.scope import visible_people
from trainingmgr.core.timefmt import is_valid_timezone
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.mail import notify
from trainingmgr.people.models import Person
from trainingmgr.programmes.models import (
    CertificateLanguage,
    Module,
    Programme,
    ProgrammeStatus,
)

# Languages a cohort can be taught in (stored codes; labels in core.labels).
LANGUAGES = ("en", "ru", "az", "en+ru", "en+az")
PAGE_SIZE = 50
MAX_SERIES_SESSIONS = 200
MAX_PARENT_DEPTH = 50


# --------------------------------------------------------------------------- cohorts


@dataclass
class CohortInput:
    """What a coordinator enters for a cohort (the fields of the cohort form)."""

    name: str
    start_date: date | None
    end_date: date | None
    timezone: str
    venue: str = ""
    city: str = ""
    country: str | None = None
    delivery_mode: DeliveryMode = DeliveryMode.IN_PERSON
    online_url: str | None = None
    capacity: int | None = None
    language: str = "en"
    certificate_language: CertificateLanguage = CertificateLanguage.EN
    min_attendance_pct: int | None = 80
    min_hours: Decimal | None = None
    required_module_ids: list[int] = field(default_factory=list)
    late_grace_minutes: int = 15
    parent_cohort_id: int | None = None


# Columns copied as they are from a validated CohortInput onto a Cohort.
_COHORT_COLUMNS = (
    "name",
    "start_date",
    "end_date",
    "timezone",
    "venue",
    "city",
    "country",
    "delivery_mode",
    "online_url",
    "capacity",
    "language",
    "certificate_language",
    "min_attendance_pct",
    "min_hours",
    "late_grace_minutes",
    "parent_cohort_id",
)


def default_timezone(programme: Programme) -> str:
    """The zone of the programme's latest cohort, else the organisation's default."""
    from trainingmgr.organisation.services import default_timezone as organisation_zone

    zone = db.session.scalar(
        sa.select(Cohort.timezone)
        .where(Cohort.programme_id == programme.id)
        .order_by(Cohort.start_date.desc(), Cohort.id.desc())
        .limit(1)
    )
    return zone or organisation_zone()


def cohort_defaults(programme: Programme) -> CohortInput:
    """A new cohort's starting values, taken from its programme."""
    return CohortInput(
        name="",
        start_date=None,
        end_date=None,
        timezone=default_timezone(programme),
        certificate_language=programme.default_certificate_language,
        min_attendance_pct=programme.default_min_attendance_pct,
        min_hours=programme.default_min_hours,
    )


def cohort_input(cohort: Cohort) -> CohortInput:
    """A cohort's current values, as the edit form shows them."""
    values = {name: getattr(cohort, name) for name in _COHORT_COLUMNS}
    return CohortInput(required_module_ids=[m.id for m in cohort.required_modules], **values)


def enrolled_count(cohort_id: int) -> int:
    """People holding a seat (enrolled, completed or not completed)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Enrolment)
            .where(Enrolment.cohort_id == cohort_id, Enrolment.status.in_(ACTIVE_ENROLMENT))
        )
        or 0
    )


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _check_url(value: str | None, field_name: str) -> str | None:
    url = _clean(value)
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DomainError(
            _("Enter a full web address starting with https:// (for example a meeting link)."),
            field_name,
        )
    return url


def _validate_cohort(
    programme: Programme, data: CohortInput, cohort: Cohort | None = None
) -> list[Module]:
    """Check ``data`` and normalise it in place; returns the required modules."""
    data.name = _clean(data.name)
    if not data.name:
        raise DomainError(_("Enter a name for the cohort."), "name")
    if len(data.name) > 200:
        raise DomainError(_("The name is too long: use at most 200 characters."), "name")
    clash = sa.select(Cohort.id).where(
        Cohort.programme_id == programme.id, sa.func.lower(Cohort.name) == data.name.lower()
    )
    if cohort is not None:
        clash = clash.where(Cohort.id != cohort.id)
    if db.session.scalar(clash.limit(1)) is not None:
        raise DomainError(
            _(
                "This programme already has a cohort named “%(name)s”: choose another name.",
                name=data.name,
            ),
            "name",
        )
    if data.start_date is None:
        raise DomainError(_("Enter the start date."), "start_date")
    if data.end_date is None:
        raise DomainError(_("Enter the end date."), "end_date")
    if data.end_date < data.start_date:
        raise DomainError(
            _(
                "The end date is before the start date: choose an end date on or after %(d)s.",
                d=timefmt.fmt_date(data.start_date),
            ),
            "end_date",
        )
    data.timezone = _clean(data.timezone)
    if not is_valid_timezone(data.timezone):
        raise DomainError(
            _(
                "“%(zone)s” is not a known time zone: choose one from the list, "
                "for example Europe/Amsterdam or Asia/Baku.",
                zone=data.timezone,
            ),
            "timezone",
        )
    data.venue = _clean(data.venue)
    data.city = _clean(data.city)
    country = _clean(data.country).upper()
    if country and (len(country) != 2 or pycountry.countries.get(alpha_2=country) is None):
        raise DomainError(
            _(
                "“%(code)s” is not an ISO country code: use two letters, for example AZ, NL or GM.",
                code=country,
            ),
            "country",
        )
    data.country = country or None
    data.delivery_mode = DeliveryMode(data.delivery_mode)
    data.online_url = _check_url(data.online_url, "online_url")
    if data.capacity is not None:
        if data.capacity < 1:
            raise DomainError(
                _("Capacity must be at least 1 (leave it empty for no limit)."), "capacity"
            )
        if cohort is not None:
            enrolled = enrolled_count(cohort.id)
            if data.capacity < enrolled:
                raise DomainError(
                    _(
                        "Capacity below current enrolment (%(n)d enrolled): enter %(n)d or "
                        "more, or withdraw people first.",
                        n=enrolled,
                    ),
                    "capacity",
                )
    if data.language not in LANGUAGES:
        raise DomainError(_("Choose a language from the list."), "language")
    data.certificate_language = CertificateLanguage(data.certificate_language)
    if data.min_attendance_pct is not None and not 0 <= data.min_attendance_pct <= 100:
        raise DomainError(
            _("Minimum attendance is a percentage: enter a number from 0 to 100."),
            "min_attendance_pct",
        )
    if data.min_hours is not None and not Decimal(0) <= data.min_hours < Decimal(10000):
        raise DomainError(_("Minimum hours must be a number from 0 to 9999."), "min_hours")
    if data.late_grace_minutes is None or not 0 <= data.late_grace_minutes <= 600:
        raise DomainError(
            _("Late grace must be a number of minutes from 0 to 600."), "late_grace_minutes"
        )
    modules = _required_modules(programme, data.required_module_ids)
    _check_parent(data.parent_cohort_id, cohort)
    return modules


def _required_modules(programme: Programme, module_ids: list[int]) -> list[Module]:
    ids = sorted(set(module_ids or []))
    if not ids:
        return []
    modules = list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.id.in_(ids), Module.programme_id == programme.id)
            .order_by(Module.position, Module.code)
        )
    )
    if len(modules) != len(ids):
        raise DomainError(
            _("Choose required modules from this programme's curriculum."),
            "required_module_ids",
        )
    return modules


def _check_parent(parent_id: int | None, cohort: Cohort | None) -> None:
    """The parent ToT cohort exists, is not the cohort itself and makes no loop."""
    if parent_id is None:
        return
    if cohort is not None and parent_id == cohort.id:
        raise DomainError(_("A cohort cannot be its own parent."), "parent_cohort_id")
    parent = db.session.get(Cohort, parent_id)
    if parent is None:
        raise DomainError(_("Choose the parent cohort from the list."), "parent_cohort_id")
    if cohort is None or cohort.id is None:
        return  # a new cohort has no roll-outs yet, so it cannot close a loop
    seen: set[int] = set()
    current: int | None = parent.parent_cohort_id
    while current is not None and current not in seen and len(seen) < MAX_PARENT_DEPTH:
        if current == cohort.id:
            raise DomainError(
                _(
                    "“%(name)s” is a roll-out of this cohort (directly or through others): "
                    "choosing it as parent would make a loop.",
                    name=parent.name,
                ),
                "parent_cohort_id",
            )
        seen.add(current)
        current = db.session.scalar(sa.select(Cohort.parent_cohort_id).where(Cohort.id == current))


def _apply(cohort: Cohort, data: CohortInput, modules: list[Module]) -> None:
    for name in _COHORT_COLUMNS:
        setattr(cohort, name, getattr(data, name))
    cohort.required_modules = modules


def create_cohort(programme: Programme, data: CohortInput, actor: User | None) -> Cohort:
    """Create a cohort of ``programme``; raises ``DomainError`` and writes nothing on bad input."""
    modules = _validate_cohort(programme, data)
    cohort = Cohort(programme_id=programme.id, status=CohortStatus.PLANNED)
    _apply(cohort, data, modules)
    db.session.add(cohort)
    db.session.flush()
    audit.record(
        "cohort.create",
        actor=actor,
        obj=cohort,
        programme_id=programme.id,
        changes={k: audit.jsonable(v) for k, v in asdict(data).items()},
        summary=f"Created cohort {cohort.name} of {programme.code}",
    )
    return cohort


def update_cohort(cohort: Cohort, data: CohortInput, actor: User | None) -> Cohort:
    """Change a cohort's settings; raises ``DomainError`` and changes nothing on bad input.

    A new time zone keeps the sessions at the same local times (a zone is changed to
    correct it: "09:00" stays 09:00 in the new zone), so their UTC times move.
    """
    _ensure_not_archived(cohort)
    modules = _validate_cohort(cohort.programme, data, cohort)
    moves = _local_times_in(cohort, data.timezone) if data.timezone != cohort.timezone else []
    before = asdict(cohort_input(cohort))
    _apply(cohort, data, modules)
    for session, starts, ends in moves:
        old = _session_values(session)
        session.starts_at, session.ends_at = starts, ends
        audit.record(
            "session.update",
            actor=actor,
            obj=session,
            programme_id=cohort.programme_id,
            changes=audit.changed_fields(old, _session_values(session)),
            summary=f"Kept at the same local time in {data.timezone}",
        )
    db.session.flush()
    audit.record_changes(
        "cohort.update",
        before,
        asdict(data),
        actor=actor,
        obj=cohort,
        programme_id=cohort.programme_id,
        summary=f"Edited cohort {cohort.name}",
    )
    return cohort


def _local_times_in(cohort: Cohort, zone: str) -> list[tuple[Session, datetime, datetime]]:
    """The cohort's sessions with the UTC times that keep their local times in ``zone``."""
    old = ZoneInfo(cohort.timezone)
    moves = []
    for session in db.session.scalars(
        sa.select(Session).where(Session.cohort_id == cohort.id).order_by(Session.starts_at)
    ):
        start = session.starts_at.astimezone(old)
        end = session.ends_at.astimezone(old)
        moves.append(
            (
                session,
                local_to_utc(start.date(), start.time(), zone, "timezone"),
                local_to_utc(end.date(), end.time(), zone, "timezone"),
            )
        )
    return moves


def _ensure_not_archived(cohort: Cohort) -> None:
    if cohort.status == CohortStatus.ARCHIVED:
        raise DomainError(_("This cohort is archived: unarchive it before changing it."))


# Which status each action leads to, and from which statuses it may be taken.
STATUS_ACTIONS: dict[str, tuple[CohortStatus | None, frozenset[CohortStatus]]] = {
    "open": (CohortStatus.OPEN, frozenset({CohortStatus.PLANNED, CohortStatus.CLOSED})),
    "close": (CohortStatus.CLOSED, frozenset({CohortStatus.PLANNED, CohortStatus.OPEN})),
    "archive": (
        CohortStatus.ARCHIVED,
        frozenset({CohortStatus.PLANNED, CohortStatus.OPEN, CohortStatus.CLOSED}),
    ),
    # Unarchived cohorts come back closed if they have ended, planned otherwise.
    "unarchive": (None, frozenset({CohortStatus.ARCHIVED})),
}


def change_status(
    cohort: Cohort, action: str, actor: User | None, today: date | None = None
) -> CohortStatus:
    """Open, close, archive or unarchive a cohort."""
    if action not in STATUS_ACTIONS:
        raise DomainError(_("Unknown action."))
    target, allowed_from = STATUS_ACTIONS[action]
    if cohort.status not in allowed_from:
        raise DomainError(
            _(
                "A cohort that is %(status)s cannot be changed that way.",
                status=str(cohort.status.label).lower(),
            )
        )
    if target is None:
        today = today or utcnow().date()
        target = CohortStatus.CLOSED if cohort.end_date < today else CohortStatus.PLANNED
    before = cohort.status
    cohort.status = target
    db.session.flush()
    audit.record(
        f"cohort.{action}",
        actor=actor,
        obj=cohort,
        programme_id=cohort.programme_id,
        changes={"status": [before.value, target.value]},
        summary=f"Cohort {cohort.name}: {before.value} -> {target.value}",
    )
    return target


def delete_cohort(cohort: Cohort, actor: User | None) -> None:
    """Delete a cohort that nobody was enrolled in; refuse (archive instead) otherwise."""
    enrolments, records, certificates = db.session.execute(
        sa.select(
            sa.select(sa.func.count())
            .select_from(Enrolment)
            .where(Enrolment.cohort_id == cohort.id)
            .scalar_subquery(),
            sa.select(sa.func.count())
            .select_from(AttendanceRecord)
            .where(AttendanceRecord.cohort_id == cohort.id)
            .scalar_subquery(),
            sa.select(sa.func.count())
            .select_from(Certificate)
            .where(Certificate.cohort_id == cohort.id)
            .scalar_subquery(),
        )
    ).one()
    if enrolments or records or certificates:
        raise DomainError(
            _(
                "This cohort cannot be deleted: it has %(e)d enrolments, %(a)d attendance "
                "records and %(c)d certificates. Archive it instead: it will be hidden from "
                "lists and nothing is lost.",
                e=enrolments,
                a=records,
                c=certificates,
            )
        )
    sessions = list(db.session.scalars(sa.select(Session).where(Session.cohort_id == cohort.id)))
    for s in sessions:
        db.session.delete(s)
    db.session.flush()
    db.session.execute(
        sa.update(Cohort).where(Cohort.parent_cohort_id == cohort.id).values(parent_cohort_id=None)
    )
    audit.record(
        "cohort.delete",
        actor=actor,
        obj=cohort,
        programme_id=cohort.programme_id,
        changes={"name": cohort.name, "sessions": len(sessions)},
        summary=f"Deleted cohort {cohort.name} and its {len(sessions)} sessions",
    )
    db.session.delete(cohort)
    db.session.flush()


# --------------------------------------------------------------------------- lists


@dataclass(frozen=True)
class CohortFilter:
    programme_id: int | None = None
    # "" = every status but archived; "all" = every status; else a CohortStatus value.
    status: str = ""
    # "" = any time; "current", "upcoming" or "past" relative to today.
    period: str = ""
    date_from: date | None = None
    date_to: date | None = None
    # Only these programmes' cohorts (a coordinator's); None: every programme's.
    programme_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class CohortRow:
    cohort: Cohort
    enrolled: int
    waitlisted: int
    sessions: int


def enrolment_counts() -> sa.Subquery:
    """Per cohort: ``cohort_id``, ``enrolled`` (active enrolments) and ``waitlisted``."""
    return (
        sa.select(
            Enrolment.cohort_id,
            sa.func.count().filter(Enrolment.status.in_(ACTIVE_ENROLMENT)).label("enrolled"),
            sa.func.count()
            .filter(Enrolment.status == EnrolmentStatus.WAITLISTED)
            .label("waitlisted"),
        )
        .group_by(Enrolment.cohort_id)
        .subquery()
    )


def _session_counts() -> sa.Subquery:
    return (
        sa.select(Session.cohort_id, sa.func.count().label("sessions"))
        .where(Session.status == SessionStatus.SCHEDULED)
        .group_by(Session.cohort_id)
        .subquery()
    )


def list_cohorts(
    filters: CohortFilter,
    page: int = 1,
    per_page: int = PAGE_SIZE,
    today: date | None = None,
) -> Page[CohortRow]:
    """One page of cohorts with their counts: two queries whatever the number of rows."""
    today = today or utcnow().date()
    where: list[Any] = []
    if filters.programme_id:
        where.append(Cohort.programme_id == filters.programme_id)
    if filters.programme_ids is not None:
        where.append(Cohort.programme_id.in_(sorted(filters.programme_ids)))
    if filters.status == "":
        where.append(Cohort.status != CohortStatus.ARCHIVED)
    elif filters.status != "all":
        where.append(Cohort.status == CohortStatus(filters.status))
    if filters.period == "current":
        where += [Cohort.start_date <= today, Cohort.end_date >= today]
    elif filters.period == "upcoming":
        where.append(Cohort.start_date > today)
    elif filters.period == "past":
        where.append(Cohort.end_date < today)
    if filters.date_from:
        where.append(Cohort.end_date >= filters.date_from)
    if filters.date_to:
        where.append(Cohort.start_date <= filters.date_to)
    enrolments = enrolment_counts()
    sessions = _session_counts()
    result = paginate(
        sa.select(Cohort, enrolments.c.enrolled, enrolments.c.waitlisted, sessions.c.sessions)
        .outerjoin(enrolments, enrolments.c.cohort_id == Cohort.id)
        .outerjoin(sessions, sessions.c.cohort_id == Cohort.id)
        .options(joinedload(Cohort.programme))
        .where(*where)
        .order_by(Cohort.start_date.desc(), Cohort.name, Cohort.id),
        page,
        per_page,
        scalars=False,
    )
    rows = [CohortRow(c, e or 0, w or 0, s or 0) for c, e, w, s in result.items]
    return replace(result, items=rows)


def programme_choices(
    include_archived: bool = True, programme_ids: Collection[int] | None = None
) -> list[Programme]:
    """Programmes to choose from (only ``programme_ids`` unless None)."""
    query = sa.select(Programme).order_by(Programme.code)
    if not include_archived:
        query = query.where(Programme.status == ProgrammeStatus.ACTIVE)
    if programme_ids is not None:
        query = query.where(Programme.id.in_(sorted(programme_ids)))
    return list(db.session.scalars(query))


def parent_choices(
    cohort: Cohort | None = None, programme_ids: Collection[int] | None = None
) -> list[tuple[int, str]]:
    """Cohorts that may be chosen as a parent ToT cohort (not the cohort itself; only of
    ``programme_ids`` unless None, but always the cohort's current parent)."""
    query = (
        sa.select(Cohort.id, Cohort.name, Programme.code, Cohort.start_date)
        .join(Programme, Programme.id == Cohort.programme_id)
        .order_by(Programme.code, Cohort.start_date.desc(), Cohort.name)
    )
    if cohort is not None and cohort.id is not None:
        query = query.where(Cohort.id != cohort.id)
    if programme_ids is not None:
        keep = cohort.parent_cohort_id if cohort is not None else None
        query = query.where(
            sa.or_(Cohort.programme_id.in_(sorted(programme_ids)), Cohort.id == keep)
        )
    return [
        (cid, f"{code} · {name} ({start:%Y-%m-%d})")
        for cid, name, code, start in db.session.execute(query)
    ]


def module_choices(programme_id: int, keep_id: int | None = None) -> list[Module]:
    """The programme's modules that are not retired (plus ``keep_id``, already in use)."""
    condition = Module.retired.is_(False)
    if keep_id is not None:
        condition = sa.or_(condition, Module.id == keep_id)
    return list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.programme_id == programme_id, condition)
            .order_by(Module.position, Module.code)
        )
    )


def trainer_choices(
    programme_ids: Collection[int] | None = None,
    keep: Collection[int] = (),
    programme_id: int | None = None,
) -> dict[str, list[tuple[int, str, str]]]:
    """People to pick trainers from, as (id, label, search text): those who teach in
    ``programme_id`` first, then those who are trainers elsewhere (trainers are shared by
    every programme), then everyone else in the scope of ``programme_ids`` (everyone:
    None). Merged records are left out; ``keep`` (the session's current trainers) are
    always in."""
    trainer_ids = set(
        db.session.scalars(
            sa.union(
                sa.select(session_trainers.c.person_id),
                sa.select(User.person_id)
                .join(UserRole, UserRole.user_id == User.id)
                .where(UserRole.role == Role.TRAINER, User.person_id.is_not(None)),
            )
        )
    )
    rows = db.session.execute(
        sa.select(
            Person.id,
            Person.first_name,
            Person.last_name,
            Person.email,
            Person.search_text,
            visible_people(programme_ids, scan=True),
        )
        .where(Person.merged_into_id.is_(None))
        .order_by(Person.last_name, Person.first_name, Person.id)
    ).all()
    own_ids = _programme_trainer_ids(programme_id) if programme_id is not None else set()
    own: list[tuple[int, str, str]] = []
    trainers: list[tuple[int, str, str]] = []
    others: list[tuple[int, str, str]] = []
    for pid, first, last, email, search, visible in rows:
        label = " ".join(p for p in (first, last) if p) + (f" ({email})" if email else "")
        if pid in own_ids:
            own.append((pid, label, search))
        elif pid in trainer_ids:
            trainers.append((pid, label, search))
        elif visible or pid in keep:
            others.append((pid, label, search))
    if programme_id is None:
        return {str(_("Trainers")): trainers, str(_("Other people")): others}
    return {
        str(_("Trainers of this programme")): own,
        str(_("Other trainers")): trainers,
        str(_("Other people")): others,
    }


def _programme_trainer_ids(programme_id: int) -> set[int]:
    """Who teaches (or taught) a session of one of the programme's cohorts."""
    return set(
        db.session.scalars(
            sa.select(session_trainers.c.person_id)
            .join(Session, Session.id == session_trainers.c.session_id)
            .join(Cohort, Cohort.id == Session.cohort_id)
            .where(Cohort.programme_id == programme_id)
            .distinct()
        )
    )


# --------------------------------------------------------------------------- cohort page


@dataclass(frozen=True)
class ScheduleDay:
    day: date
    sessions: list[Session]


@dataclass(frozen=True)
class TrainerLoad:
    person: Person
    sessions: int


@dataclass(frozen=True)
class CohortOverview:
    cohort: Cohort
    days: list[ScheduleDay]
    trainers: list[TrainerLoad]
    status_counts: dict[str, int]
    enrolled: int
    waitlisted: int
    scheduled_sessions: int
    scheduled_hours: Decimal


def load_cohort(cohort_id: int) -> Cohort | None:
    """A cohort with its programme and parent (one query), or None."""
    return db.session.scalar(
        sa.select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(joinedload(Cohort.programme), joinedload(Cohort.parent_cohort))
    )


def cohort_sessions(cohort_id: int) -> list[Session]:
    """A cohort's sessions with modules and trainers, in time order (two queries)."""
    return list(
        db.session.scalars(
            sa.select(Session)
            .where(Session.cohort_id == cohort_id)
            .options(joinedload(Session.module), selectinload(Session.trainers))
            .order_by(Session.starts_at, Session.id)
        ).unique()
    )


def enrolment_status_counts(cohort_id: int) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Enrolment.status, sa.func.count())
        .where(Enrolment.cohort_id == cohort_id)
        .group_by(Enrolment.status)
    ).all()
    return {EnrolmentStatus(status).value: n for status, n in rows}


def overview(cohort: Cohort) -> CohortOverview:
    """Everything the cohort page shows besides the roster, in a fixed number of queries."""
    sessions = cohort_sessions(cohort.id)
    tz = ZoneInfo(cohort.timezone)
    by_day: dict[date, list[Session]] = defaultdict(list)
    loads: Counter[int] = Counter()
    people: dict[int, Person] = {}
    hours = Decimal(0)
    scheduled = 0
    for s in sessions:
        by_day[s.starts_at.astimezone(tz).date()].append(s)
        if s.status == SessionStatus.CANCELLED:
            continue
        scheduled += 1
        hours += s.hours
        for person in s.trainers:
            loads[person.id] += 1
            people[person.id] = person
    trainers = sorted(
        (TrainerLoad(people[pid], n) for pid, n in loads.items()),
        key=lambda t: (t.person.last_name.casefold(), t.person.first_name.casefold()),
    )
    counts = enrolment_status_counts(cohort.id)
    return CohortOverview(
        cohort=cohort,
        days=[ScheduleDay(d, items) for d, items in sorted(by_day.items())],
        trainers=trainers,
        status_counts=counts,
        enrolled=sum(counts.get(s.value, 0) for s in ACTIVE_ENROLMENT),
        waitlisted=counts.get(EnrolmentStatus.WAITLISTED.value, 0),
        scheduled_sessions=scheduled,
        scheduled_hours=hours,
    )


# --------------------------------------------------------------------------- sessions


@dataclass
class SessionDetails:
    """What a session is about, shared by a single session and a series."""

    module_id: int | None = None
    title: str = ""
    mode: DeliveryMode = DeliveryMode.IN_PERSON
    location: str = ""
    online_url: str | None = None
    trainer_ids: list[int] = field(default_factory=list)


@dataclass
class SessionInput(SessionDetails):
    """One session, its date and times in the cohort's local time."""

    day: date | None = None
    start_time: time | None = None
    end_time: time | None = None


@dataclass
class SeriesInput(SessionDetails):
    """Sessions on chosen weekdays between two dates, every ``interval_weeks`` weeks."""

    start_date: date | None = None
    end_date: date | None = None
    weekdays: list[int] = field(default_factory=list)  # 0 = Monday ... 6 = Sunday
    interval_weeks: int = 1
    start_time: time | None = None
    end_time: time | None = None


@dataclass(frozen=True)
class ProposedSession:
    """A session about to be saved, in UTC, as ``schedule_warnings`` checks it."""

    starts_at: datetime
    ends_at: datetime
    trainer_ids: tuple[int, ...] = ()


class NeedsConfirmation(DomainError):
    """The schedule has warnings the user has not confirmed; nothing was saved."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(" ".join(warnings))
        self.warnings = warnings
        self.digest = warnings_digest(warnings)


def warnings_digest(warnings: list[str]) -> str:
    """A short fingerprint of a list of warnings: confirming it confirms exactly these."""
    return hashlib.sha256("\n".join(warnings).encode()).hexdigest()[:16]


def local_to_utc(day: date, at: time, zone: str, field_name: str = "start_time") -> datetime:
    """``day`` at ``at`` in ``zone``, as UTC.

    A time skipped by a daylight-saving change is refused; a repeated one is read as its
    first occurrence (``fold=0``).
    """
    tz = ZoneInfo(zone)
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=tz)
    utc = local.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise DomainError(
            _(
                "%(time)s on %(date)s does not exist in %(zone)s: the clocks move forward "
                "then. Choose another time.",
                time=at.strftime("%H:%M"),
                date=timefmt.fmt_date(day),
                zone=zone,
            ),
            field_name,
        )
    return utc


def _times(
    cohort: Cohort, day: date, start: time | None, end: time | None
) -> tuple[datetime, datetime]:
    if start is None:
        raise DomainError(_("Enter the start time."), "start_time")
    if end is None:
        raise DomainError(_("Enter the end time."), "end_time")
    if end <= start:
        raise DomainError(
            _("The end time must be after the start time (%(t)s).", t=start.strftime("%H:%M")),
            "end_time",
        )
    return (
        local_to_utc(day, start, cohort.timezone, "start_time"),
        local_to_utc(day, end, cohort.timezone, "end_time"),
    )


@dataclass(frozen=True)
class _Details:
    module: Module | None
    title: str
    mode: DeliveryMode
    location: str
    online_url: str | None
    trainers: list[Person]

    @property
    def trainer_ids(self) -> tuple[int, ...]:
        return tuple(p.id for p in self.trainers)


def _validate_details(
    cohort: Cohort, data: SessionDetails, keep_module_id: int | None = None
) -> _Details:
    module = None
    if data.module_id is not None:
        module = db.session.get(Module, data.module_id)
        usable = module is not None and module.programme_id == cohort.programme_id
        if usable and module.retired and module.id != keep_module_id:
            usable = False
        if not usable:
            raise DomainError(
                _("Choose a module of this programme's curriculum that is not retired."),
                "module_id",
            )
    title = _clean(data.title)
    if len(title) > 250:
        raise DomainError(_("The title is too long: use at most 250 characters."), "title")
    if module is None and not title:
        raise DomainError(_("Choose a module or enter a title."), "title")
    location = _clean(data.location)
    if len(location) > 250:
        raise DomainError(_("The location is too long: use at most 250 characters."), "location")
    ids = sorted(set(data.trainer_ids or []))
    trainers: list[Person] = []
    if ids:
        trainers = list(
            db.session.scalars(
                sa.select(Person)
                .where(Person.id.in_(ids), Person.merged_into_id.is_(None))
                .order_by(Person.last_name, Person.first_name)
            )
        )
        if len(trainers) != len(ids):
            raise DomainError(_("Choose trainers from the list of people."), "trainer_ids")
    return _Details(
        module=module,
        title=title,
        mode=DeliveryMode(data.mode),
        location=location,
        online_url=_check_url(data.online_url, "online_url"),
        trainers=trainers,
    )


def series_dates(
    start: date, end: date, weekdays: list[int] | set[int], interval_weeks: int = 1
) -> list[date]:
    """Days from ``start`` to ``end`` on ``weekdays`` (0 = Monday), every ``interval_weeks``.

    Weeks are counted from the week (Monday to Sunday) that holds ``start``.
    """
    wanted = set(weekdays)
    anchor = start - timedelta(days=start.weekday())
    days = []
    current = start
    while current <= end:
        if current.weekday() in wanted and ((current - anchor).days // 7) % interval_weeks == 0:
            days.append(current)
        current += timedelta(days=1)
    return days


def _series_days(data: SeriesInput) -> list[date]:
    if data.start_date is None:
        raise DomainError(_("Enter the first date of the series."), "start_date")
    if data.end_date is None:
        raise DomainError(_("Enter the last date of the series."), "end_date")
    if data.end_date < data.start_date:
        raise DomainError(
            _("The last date is before the first date: swap them or correct one."), "end_date"
        )
    if not data.weekdays or any(d not in range(7) for d in data.weekdays):
        raise DomainError(_("Tick at least one weekday."), "weekdays")
    if data.interval_weeks is None or not 1 <= data.interval_weeks <= 52:
        raise DomainError(_("Repeat every 1 to 52 weeks (1 means every week)."), "interval_weeks")
    if (data.end_date - data.start_date).days > 7 * 106:
        raise DomainError(_("A series can span at most two years."), "end_date")
    days = series_dates(data.start_date, data.end_date, data.weekdays, data.interval_weeks)
    if not days:
        raise DomainError(_("No day between these dates falls on the chosen weekdays."), "weekdays")
    if len(days) > MAX_SERIES_SESSIONS:
        raise DomainError(
            _(
                "This would create %(n)d sessions; a series is limited to %(max)d.",
                n=len(days),
                max=MAX_SERIES_SESSIONS,
            ),
            "end_date",
        )
    return days


def _when(value: datetime, zone: str) -> str:
    return f"{timefmt.fmt_date(value, zone)} {timefmt.fmt_time(value, zone)}"


def schedule_warnings(
    cohort: Cohort,
    proposed: list[ProposedSession],
    exclude_session_id: int | None = None,
) -> list[str]:
    """What a coordinator should know before saving ``proposed`` sessions.

    A session outside the cohort's dates, two sessions of this cohort that overlap, and a
    trainer booked in overlapping sessions of any cohort. Runs at most two queries however
    many sessions are proposed. Cancelled sessions are ignored.
    """
    if not proposed:
        return []
    zone = cohort.timezone
    warnings: list[str] = []

    def span(start: datetime, end: datetime) -> str:
        return f"{_when(start, zone)}–{timefmt.fmt_time(end, zone)}"

    for p in proposed:
        first = p.starts_at.astimezone(ZoneInfo(zone)).date()
        last = p.ends_at.astimezone(ZoneInfo(zone)).date()
        if first < cohort.start_date or last > cohort.end_date:
            warnings.append(
                _(
                    "%(when)s is outside the cohort's dates (%(start)s – %(end)s).",
                    when=span(p.starts_at, p.ends_at),
                    start=timefmt.fmt_date(cohort.start_date),
                    end=timefmt.fmt_date(cohort.end_date),
                )
            )
    for i, a in enumerate(proposed):
        for b in proposed[i + 1 :]:
            if a.starts_at < b.ends_at and b.starts_at < a.ends_at:
                warnings.append(
                    _(
                        "The new sessions %(a)s and %(b)s overlap each other.",
                        a=span(a.starts_at, a.ends_at),
                        b=span(b.starts_at, b.ends_at),
                    )
                )

    window_start = min(p.starts_at for p in proposed)
    window_end = max(p.ends_at for p in proposed)
    in_window = [
        Session.starts_at < window_end,
        Session.ends_at > window_start,
        Session.status != SessionStatus.CANCELLED,
    ]
    if exclude_session_id is not None:
        in_window.append(Session.id != exclude_session_id)
    title = sa.func.coalesce(sa.func.nullif(Session.title, ""), Module.title, "")

    if cohort.id is not None:
        existing = db.session.execute(
            sa.select(Session.starts_at, Session.ends_at, title)
            .outerjoin(Module, Module.id == Session.module_id)
            .where(Session.cohort_id == cohort.id, *in_window)
            .order_by(Session.starts_at)
        ).all()
        for p in proposed:
            for starts, ends, name in existing:
                if p.starts_at < ends and starts < p.ends_at:
                    warnings.append(
                        _(
                            "%(when)s overlaps “%(title)s” (%(other)s) in this cohort.",
                            when=span(p.starts_at, p.ends_at),
                            title=name,
                            other=span(starts, ends),
                        )
                    )

    trainer_ids = sorted({pid for p in proposed for pid in p.trainer_ids})
    if trainer_ids:
        bookings = db.session.execute(
            sa.select(
                session_trainers.c.person_id,
                Person.first_name,
                Person.last_name,
                Session.starts_at,
                Session.ends_at,
                title,
                Cohort.name,
                Programme.code,
            )
            .join(Session, Session.id == session_trainers.c.session_id)
            .join(Person, Person.id == session_trainers.c.person_id)
            .join(Cohort, Cohort.id == Session.cohort_id)
            .join(Programme, Programme.id == Cohort.programme_id)
            .outerjoin(Module, Module.id == Session.module_id)
            .where(session_trainers.c.person_id.in_(trainer_ids), *in_window)
            .order_by(Session.starts_at)
        ).all()
        for p in proposed:
            for pid, first, last, starts, ends, name, cohort_name, code in bookings:
                if pid in p.trainer_ids and p.starts_at < ends and starts < p.ends_at:
                    warnings.append(
                        _(
                            "%(trainer)s is already booked %(other)s for “%(title)s” "
                            "(%(code)s · %(cohort)s), which overlaps %(when)s.",
                            trainer=" ".join(x for x in (first, last) if x),
                            other=span(starts, ends),
                            title=name,
                            code=code,
                            cohort=cohort_name,
                            when=span(p.starts_at, p.ends_at),
                        )
                    )
    if warnings:
        warnings.append(_("Times are in %(zone)s.", zone=zone))
    return list(dict.fromkeys(warnings))


def _confirm(
    cohort: Cohort,
    proposed: list[ProposedSession],
    acknowledged: str | None,
    exclude_session_id: int | None = None,
) -> None:
    """Raise ``NeedsConfirmation`` unless there is nothing to warn about or the user has
    confirmed exactly these warnings (``acknowledged`` is their digest)."""
    warnings = schedule_warnings(cohort, proposed, exclude_session_id)
    if warnings and acknowledged != warnings_digest(warnings):
        raise NeedsConfirmation(warnings)


def _session_from(cohort: Cohort, details: _Details, starts: datetime, ends: datetime) -> Session:
    session = Session(
        cohort_id=cohort.id,
        module_id=details.module.id if details.module else None,
        title=details.title,
        starts_at=starts,
        ends_at=ends,
        mode=details.mode,
        location=details.location,
        online_url=details.online_url,
        status=SessionStatus.SCHEDULED,
    )
    session.trainers = list(details.trainers)
    db.session.add(session)
    return session


def _session_values(session: Session) -> dict[str, Any]:
    return {
        "module_id": session.module_id,
        "title": session.title,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "mode": session.mode,
        "location": session.location,
        "online_url": session.online_url,
        "trainer_ids": sorted(p.id for p in session.trainers),
    }


def add_session(
    cohort: Cohort, data: SessionInput, actor: User | None, acknowledged: str | None = None
) -> Session:
    """Add one session. Raises ``NeedsConfirmation`` while its warnings are unconfirmed."""
    _ensure_not_archived(cohort)
    if data.day is None:
        raise DomainError(_("Enter the date of the session."), "day")
    starts, ends = _times(cohort, data.day, data.start_time, data.end_time)
    details = _validate_details(cohort, data)
    _confirm(cohort, [ProposedSession(starts, ends, details.trainer_ids)], acknowledged)
    session = _session_from(cohort, details, starts, ends)
    db.session.flush()
    audit.record(
        "session.create",
        actor=actor,
        obj=session,
        programme_id=cohort.programme_id,
        changes={k: audit.jsonable(v) for k, v in _session_values(session).items()},
        summary=f"Added a session to {cohort.name}",
    )
    return session


def propose_series(cohort: Cohort, data: SeriesInput) -> list[ProposedSession]:
    """The sessions a series would create, each day converted to UTC on its own."""
    days = _series_days(data)
    trainer_ids = tuple(sorted(set(data.trainer_ids or [])))
    proposed = []
    for day in days:
        starts, ends = _times(cohort, day, data.start_time, data.end_time)
        proposed.append(ProposedSession(starts, ends, trainer_ids))
    return proposed


def add_series(
    cohort: Cohort, data: SeriesInput, actor: User | None, acknowledged: str | None = None
) -> list[Session]:
    """Add a series of sessions in one step (all or none)."""
    _ensure_not_archived(cohort)
    proposed = propose_series(cohort, data)
    details = _validate_details(cohort, data)
    _confirm(cohort, proposed, acknowledged)
    sessions = [_session_from(cohort, details, p.starts_at, p.ends_at) for p in proposed]
    db.session.flush()
    audit.record(
        "session.series",
        actor=actor,
        object_type="cohorts",
        object_id=cohort.id,
        programme_id=cohort.programme_id,
        changes={
            "session_ids": [s.id for s in sessions],
            "start_date": audit.jsonable(data.start_date),
            "end_date": audit.jsonable(data.end_date),
            "weekdays": sorted(set(data.weekdays)),
            "interval_weeks": data.interval_weeks,
            "start_time": audit.jsonable(data.start_time),
            "end_time": audit.jsonable(data.end_time),
        },
        summary=f"Added a series of {len(sessions)} sessions to {cohort.name}",
    )
    return sessions


def session_input(session: Session) -> SessionInput:
    """A session's current values in its cohort's local time, as the edit form shows them."""
    tz = ZoneInfo(session.cohort.timezone)
    start = session.starts_at.astimezone(tz)
    end = session.ends_at.astimezone(tz)
    return SessionInput(
        module_id=session.module_id,
        title=session.title,
        mode=session.mode,
        location=session.location,
        online_url=session.online_url,
        trainer_ids=[p.id for p in session.trainers],
        day=start.date(),
        start_time=start.time().replace(tzinfo=None, fold=0),
        end_time=end.time().replace(tzinfo=None, fold=0),
    )


def update_session(
    session: Session, data: SessionInput, actor: User | None, acknowledged: str | None = None
) -> Session:
    """Edit or move a session. Raises ``NeedsConfirmation`` while warnings are unconfirmed."""
    cohort = session.cohort
    _ensure_not_archived(cohort)
    if data.day is None:
        raise DomainError(_("Enter the date of the session."), "day")
    starts, ends = _times(cohort, data.day, data.start_time, data.end_time)
    details = _validate_details(cohort, data, keep_module_id=session.module_id)
    _confirm(
        cohort,
        [ProposedSession(starts, ends, details.trainer_ids)],
        acknowledged,
        exclude_session_id=session.id,
    )
    before = _session_values(session)
    session.module_id = details.module.id if details.module else None
    session.title = details.title
    session.starts_at = starts
    session.ends_at = ends
    session.mode = details.mode
    session.location = details.location
    session.online_url = details.online_url
    session.trainers = list(details.trainers)
    db.session.flush()
    audit.record_changes(
        "session.update",
        before,
        _session_values(session),
        actor=actor,
        obj=session,
        programme_id=cohort.programme_id,
        summary=f"Edited a session of {cohort.name}",
    )
    moved = (before["starts_at"], before["ends_at"]) != (session.starts_at, session.ends_at)
    if moved and session.status == SessionStatus.SCHEDULED:
        notify.session_changed(session, notify.MOVED, before["starts_at"], before["ends_at"])
    return session


def set_session_cancelled(session: Session, cancelled: bool, actor: User | None) -> None:
    """Cancel a session (it is kept and shown struck through) or bring it back."""
    _ensure_not_archived(session.cohort)
    target = SessionStatus.CANCELLED if cancelled else SessionStatus.SCHEDULED
    if session.status == target:
        return
    before = session.status
    session.status = target
    db.session.flush()
    audit.record(
        "session.cancel" if cancelled else "session.uncancel",
        actor=actor,
        obj=session,
        programme_id=session.cohort.programme_id,
        changes={"status": [before.value, target.value]},
        summary=f"{'Cancelled' if cancelled else 'Restored'} a session of {session.cohort.name}",
    )
    notify.session_changed(session, notify.CANCELLED if cancelled else notify.RESTORED)


def delete_session(session: Session, actor: User | None) -> None:
    """Delete a session with no attendance recorded; refuse otherwise (cancel instead)."""
    _ensure_not_archived(session.cohort)
    records = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AttendanceRecord)
        .where(AttendanceRecord.session_id == session.id)
    )
    if records:
        raise DomainError(
            _(
                "This session cannot be deleted: %(n)d attendance records refer to it. "
                "Cancel it instead: it stays in the schedule, struck through.",
                n=records,
            )
        )
    audit.record(
        "session.delete",
        actor=actor,
        obj=session,
        programme_id=session.cohort.programme_id,
        changes={k: audit.jsonable(v) for k, v in _session_values(session).items()},
        summary=f"Deleted a session of {session.cohort.name}",
    )
    db.session.delete(session)
    db.session.flush()
