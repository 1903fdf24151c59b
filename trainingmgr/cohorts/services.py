"""Cohorts: every rule about creating, changing, archiving and removing them, and the
cohort page's overview.

Functions take what they need (the acting user as the keyword-only ``actor``), raise
``DomainError`` for bad input, record audit events and never commit: views and the CLI commit.
Lists live in ``listing``, session times and schedule checks in ``schedule``, session
changes in ``sessions``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pycountry
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from trainingmgr.accounts.models import User
from trainingmgr.attendance.models import AttendanceRecord
from trainingmgr.audit import services as audit
from trainingmgr.certificates.models import Certificate
from trainingmgr.cohorts.models import (
    Cohort,
    CohortStatus,
    DeliveryMode,
    Enrolment,
    Session,
)
from trainingmgr.cohorts.schedule import check_url, clean_text, local_to_utc, session_values
from trainingmgr.core import timefmt
from trainingmgr.core.errors import DomainError
from trainingmgr.core.timefmt import is_valid_timezone
from trainingmgr.core.types import utcnow
from trainingmgr.enrolments import seats as enrolment_seats
from trainingmgr.extensions import db
from trainingmgr.programmes.models import (
    CertificateLanguage,
    Module,
    Programme,
)

# Languages a cohort can be taught in (stored codes; labels in core.labels).
LANGUAGES = ("en", "ru", "az", "en+ru", "en+az")
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
    auto_fill_waitlist: bool = True


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
    "auto_fill_waitlist",
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
            .where(Enrolment.cohort_id == cohort_id, Enrolment.active)
        )
        or 0
    )


def _check_name(programme: Programme, data: CohortInput, cohort: Cohort | None) -> None:
    data.name = clean_text(data.name)
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


def _check_start(data: CohortInput) -> None:
    if data.start_date is None:
        raise DomainError(_("Enter the start date."), "start_date")


def _check_end(data: CohortInput) -> None:
    if data.end_date is None:
        raise DomainError(_("Enter the end date."), "end_date")
    if data.start_date is not None and data.end_date < data.start_date:
        raise DomainError(
            _(
                "The end date is before the start date: choose an end date on or after %(d)s.",
                d=timefmt.fmt_date(data.start_date),
            ),
            "end_date",
        )


def _check_zone(data: CohortInput) -> None:
    data.timezone = clean_text(data.timezone)
    if not is_valid_timezone(data.timezone):
        raise DomainError(
            _(
                "“%(zone)s” is not a known time zone: choose one from the list, "
                "for example Europe/Amsterdam or Asia/Baku.",
                zone=data.timezone,
            ),
            "timezone",
        )


def _check_place(data: CohortInput) -> None:
    data.venue = clean_text(data.venue)
    data.city = clean_text(data.city)
    country = clean_text(data.country).upper()
    if country and (len(country) != 2 or pycountry.countries.get(alpha_2=country) is None):
        raise DomainError(
            _(
                "“%(code)s” is not an ISO country code: use two letters, for example AZ, NL or GM.",
                code=country,
            ),
            "country",
        )
    data.country = country or None


def _check_online(data: CohortInput) -> None:
    data.delivery_mode = DeliveryMode(data.delivery_mode)
    data.online_url = check_url(data.online_url, "online_url")


def _check_capacity(data: CohortInput, cohort: Cohort | None) -> None:
    if data.capacity is None:
        return
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


def _check_language(data: CohortInput) -> None:
    if data.language not in LANGUAGES:
        raise DomainError(_("Choose a language from the list."), "language")
    data.certificate_language = CertificateLanguage(data.certificate_language)


def _check_attendance(data: CohortInput) -> None:
    if data.min_attendance_pct is not None and not 0 <= data.min_attendance_pct <= 100:
        raise DomainError(
            _("Minimum attendance is a percentage: enter a number from 0 to 100."),
            "min_attendance_pct",
        )


def _check_hours(data: CohortInput) -> None:
    if data.min_hours is not None and not Decimal(0) <= data.min_hours < Decimal(10000):
        raise DomainError(_("Minimum hours must be a number from 0 to 9999."), "min_hours")


def _check_grace(data: CohortInput) -> None:
    if data.late_grace_minutes is None or not 0 <= data.late_grace_minutes <= 600:
        raise DomainError(
            _("Late grace must be a number of minutes from 0 to 600."), "late_grace_minutes"
        )


def cohort_errors(
    programme: Programme, data: CohortInput, cohort: Cohort | None = None
) -> list[DomainError]:
    """Every problem with ``data`` at once, one per field, in the form's order (``data`` is
    normalised in place). Empty: ``create_cohort``/``update_cohort`` will accept it."""
    checks: list[Callable[[], object]] = [
        lambda: _check_name(programme, data, cohort),
        lambda: _check_start(data),
        lambda: _check_end(data),
        lambda: _check_zone(data),
        lambda: _check_place(data),
        lambda: _check_online(data),
        lambda: _check_capacity(data, cohort),
        lambda: _check_language(data),
        lambda: _check_attendance(data),
        lambda: _check_hours(data),
        lambda: _check_grace(data),
        lambda: _required_modules(programme, data.required_module_ids),
        lambda: _check_parent(data.parent_cohort_id, cohort),
    ]
    errors = []
    for check in checks:
        try:
            check()
        except DomainError as exc:
            errors.append(exc)
    return errors


def _validate_cohort(
    programme: Programme, data: CohortInput, cohort: Cohort | None = None
) -> list[Module]:
    """Check ``data`` and normalise it in place; returns the required modules."""
    errors = cohort_errors(programme, data, cohort)
    if errors:
        raise errors[0]
    return _required_modules(programme, data.required_module_ids)


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


def create_cohort(programme: Programme, data: CohortInput, *, actor: User | None) -> Cohort:
    """Create a cohort of ``programme``; raises ``DomainError`` and writes nothing on bad input."""
    modules = _validate_cohort(programme, data)
    cohort = Cohort(programme_id=programme.id, status=CohortStatus.PLANNED)
    _apply(cohort, data, modules)
    audit.record_created(
        "cohort.create",
        cohort,
        actor=actor,
        programme_id=programme.id,
        changes={k: audit.jsonable(v) for k, v in asdict(data).items()},
        summary=f"Created cohort {cohort.name} of {programme.code}",
    )
    return cohort


def update_cohort(cohort: Cohort, data: CohortInput, *, actor: User | None) -> list[Enrolment]:
    """Change a cohort's settings; raises ``DomainError`` and changes nothing on bad input.

    A new time zone keeps the sessions at the same local times (a zone is changed to
    correct it: "09:00" stays 09:00 in the new zone), so their UTC times move. Seats added
    (or the waitlist filling itself turned on) go to the waitlist: returns those promoted.
    """
    ensure_not_archived(cohort)
    modules = _validate_cohort(cohort.programme, data, cohort)
    moves = _local_times_in(cohort, data.timezone) if data.timezone != cohort.timezone else []
    before = asdict(cohort_input(cohort))
    _apply(cohort, data, modules)
    for session, starts, ends in moves:
        old = session_values(session)
        session.starts_at, session.ends_at = starts, ends
        audit.record(
            "session.update",
            actor=actor,
            obj=session,
            programme_id=cohort.programme_id,
            changes=audit.changed_fields(old, session_values(session)),
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
    return enrolment_seats.fill_waitlist(cohort.id, actor=actor)


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


def ensure_not_archived(cohort: Cohort) -> None:
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
    cohort: Cohort, action: str, *, actor: User | None, today: date | None = None
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


def delete_cohort(cohort: Cohort, *, actor: User | None) -> None:
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


# --------------------------------------------------------------------------- loading


def _cohort_query(cohort_id: int) -> sa.Select[tuple[Cohort]]:
    return (
        sa.select(Cohort)
        .where(Cohort.id == cohort_id)
        .options(joinedload(Cohort.programme), joinedload(Cohort.parent_cohort))
    )


def load_cohort(cohort_id: int) -> Cohort | None:
    """A cohort with its programme and parent (one query), or None."""
    return db.session.scalar(_cohort_query(cohort_id))


def cohort_or_404(cohort_id: int) -> Cohort:
    """The cohort a URL names, with its programme and parent (one query), or a 404.

    The programme scope of a coordinator is checked before the view runs, from the URL's
    ``cohort_id`` (``core.scope``)."""
    return db.one_or_404(_cohort_query(cohort_id))
