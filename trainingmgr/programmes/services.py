"""Programmes: creating, editing, archiving and deleting them; their lists and pages.
Partners, funders and modules are in ``curriculum`` (re-exported here), the shared
validation in ``rules``.

Every rule lives here: views, the CLI and tests call these functions. They raise
``DomainError`` for bad input, record an audit event for every change, and never commit.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import selectinload

from trainingmgr.accounts.models import Role, User
from trainingmgr.audit import services as audit
from trainingmgr.certificates.models import CertificateSerialCounter
from trainingmgr.cohorts.models import (
    Cohort,
    Enrolment,
    Session,
)
from trainingmgr.core.cache import TimedCache
from trainingmgr.core.errors import Checks, DomainError
from trainingmgr.core.scope import in_programmes
from trainingmgr.extensions import db
from trainingmgr.programmes.models import (
    CertificateLanguage,
    Module,
    PartnerRole,
    Programme,
    ProgrammeKind,
    ProgrammePartner,
    ProgrammeStatus,
)
from trainingmgr.programmes.rules import (
    MAX_BUDGET,
    MAX_HOURS,
    choice,
    clean,
    created_values,
    max_length,
    normalise_code,
    normalise_countries,
    normalise_currency,
    number,
    record_change,
    required,
    update_audited,
)

# --------------------------------------------------------------------------- inputs


@dataclass
class ProgrammeInput:
    """What a coordinator enters for a programme (as parsed by the form or the CLI)."""

    code: str
    title: str
    kind: ProgrammeKind | str
    description: str = ""
    start_date: date | None = None
    end_date: date | None = None
    budget: Decimal | None = None
    currency: str | None = None
    # ISO codes or names, as a list or as text separated by commas, semicolons or lines.
    target_countries: Sequence[str] | str = ()
    target_regions: str = ""
    default_min_attendance_pct: int | None = 80
    default_min_hours: Decimal | None = None
    default_certificate_language: CertificateLanguage | str = CertificateLanguage.EN


# --------------------------------------------------------------------------- programmes


def _programme_code(code: str | None, programme: Programme | None) -> str:
    """A valid code that no other programme uses."""
    code = normalise_code(code)
    clash = sa.select(Programme.id).where(sa.func.upper(Programme.code) == code)
    if programme is not None:
        clash = clash.where(Programme.id != programme.id)
    if db.session.scalar(clash.limit(1)) is not None:
        raise DomainError(
            _("Another programme already uses the code %(code)s. Choose another code.", code=code),
            "code",
        )
    return code


def _programme_rules(data: ProgrammeInput, checks: Checks) -> dict[str, Any]:
    """The period, budget and completion-rule values, every refusal recorded in ``checks``."""
    if data.start_date and data.end_date and data.end_date < data.start_date:
        checks.add(
            _("The end date is before the start date. Enter an end date on or after it."),
            "end_date",
        )
    budget = checks.run(
        number,
        data.budget,
        "budget",
        _("Enter a budget of 0 or more (at most %(max)s).", max=MAX_BUDGET),
        maximum=MAX_BUDGET,
    )
    currency = checks.run(normalise_currency, data.currency)
    if budget is not None and currency is None and not checks.failed("currency"):
        checks.add(_("Enter the currency of the budget, for example EUR."), "currency")
    pct = data.default_min_attendance_pct
    if pct is not None and not 0 <= pct <= 100:
        checks.add(
            _("The minimum attendance is a percentage: enter a number from 0 to 100."),
            "default_min_attendance_pct",
        )
    min_hours = checks.run(
        number,
        data.default_min_hours,
        "default_min_hours",
        _(
            "Enter the minimum hours as a number from 0 to %(max)s, or leave it empty.",
            max=MAX_HOURS,
        ),
        maximum=MAX_HOURS,
    )
    return {
        "start_date": data.start_date,
        "end_date": data.end_date,
        "budget": budget,
        "currency": currency,
        "default_min_attendance_pct": pct,
        "default_min_hours": min_hours,
    }


def _programme_values(data: ProgrammeInput, programme: Programme | None) -> dict[str, Any]:
    """Validate every field of ``data`` (``FieldErrors`` lists every refusal at once);
    return the column values to store."""
    checks = Checks()
    code = checks.run(_programme_code, data.code, programme)
    title = checks.run(
        lambda: max_length(required(data.title, "title", _("Enter a title.")), 250, "title")
    )
    kind = checks.run(choice, ProgrammeKind, data.kind, "kind")
    rules = _programme_rules(data, checks)
    countries = checks.run(normalise_countries, data.target_countries)
    regions = checks.run(max_length, clean(data.target_regions), 500, "target_regions")
    language = checks.run(
        choice,
        CertificateLanguage,
        data.default_certificate_language,
        "default_certificate_language",
    )
    checks.done()
    return {
        "code": code,
        "title": title,
        "kind": kind,
        "description": clean(data.description),
        **rules,
        "target_countries": ",".join(countries or []),
        "target_regions": regions,
        "default_certificate_language": language,
    }


def check_programme(data: ProgrammeInput, programme: Programme | None = None) -> None:
    """Validate ``data`` as a programme's new values, writing nothing (``FieldErrors``)."""
    _programme_values(data, programme)


def create_programme(data: ProgrammeInput, *, actor: User | None) -> Programme:
    values = _programme_values(data, None)
    programme = Programme(status=ProgrammeStatus.ACTIVE, **values)
    db.session.add(programme)
    db.session.flush()
    record_change("programme.create", programme, created_values(values), actor=actor)
    if actor is not None and actor.has_role(Role.COORDINATOR) and programme not in actor.programmes:
        actor.programmes.append(programme)  # its creator coordinates it (admins see all)
    return programme


def update_programme(
    programme: Programme, data: ProgrammeInput, *, actor: User | None
) -> Programme:
    update_audited(programme, _programme_values(data, programme), "programme.update", actor=actor)
    return programme


def set_archived(programme: Programme, archived: bool, *, actor: User | None) -> Programme:
    """Archive a programme (it leaves the active lists) or bring it back."""
    status = ProgrammeStatus.ARCHIVED if archived else ProgrammeStatus.ACTIVE
    if programme.status == status:
        raise DomainError(
            _("This programme is already archived.")
            if archived
            else _("This programme is not archived.")
        )
    update_audited(
        programme,
        {"status": status},
        "programme.archive" if archived else "programme.unarchive",
        actor=actor,
    )
    return programme


def delete_programme(programme: Programme, *, actor: User | None) -> None:
    """Delete a programme that never had cohorts; otherwise explain that it can be archived."""
    cohorts = db.session.scalar(
        sa.select(sa.func.count(Cohort.id)).where(Cohort.programme_id == programme.id)
    )
    if cohorts:
        raise DomainError(
            ngettext(
                "%(code)s has %(num)d cohort, so it cannot be deleted: its enrolments, "
                "attendance and certificates would be lost. Archive the programme instead.",
                "%(code)s has %(num)d cohorts, so it cannot be deleted: their enrolments, "
                "attendance and certificates would be lost. Archive the programme instead.",
                cohorts,
                code=programme.code,
            )
        )
    counters = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(CertificateSerialCounter)
        .where(CertificateSerialCounter.programme_id == programme.id)
    )
    if counters:
        raise DomainError(
            _(
                "Certificates have been numbered under %(code)s, so it cannot be deleted. "
                "Archive the programme instead.",
                code=programme.code,
            )
        )
    # The event outlives the programme, so it does not point at it.
    audit.record(
        "programme.delete",
        actor=actor,
        obj=programme,
        changes={"code": [programme.code, None], "title": [programme.title, None]},
        summary=f"{programme.code} {programme.title}",
    )
    db.session.delete(programme)
    db.session.flush()


# --------------------------------------------------------------------------- lists and pages


@dataclass(frozen=True)
class ProgrammeRow:
    programme: Programme
    cohorts: int
    modules: int
    participants: int


# Counting the distinct participants of 20 programmes reads 150,000 enrolments (50 ms): the
# counts are kept a minute per programme, dropped by this process when it writes enrolments
# or cohorts (core.cache).
PARTICIPANTS_TTL = 60.0
_participants: TimedCache[int, int] = TimedCache(PARTICIPANTS_TTL, Enrolment, Cohort)


def participant_counts(programme_ids: Collection[int]) -> dict[int, int]:
    """{programme id: its distinct active participants} for these programmes, in at most
    one grouped query (read from the index on enrolments (cohort_id, status, person_id)
    alone) for those not counted in the last minute."""
    return _participants.get_many(sorted(set(programme_ids)), _count_participants)


def _count_participants(programme_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        sa.select(Cohort.programme_id, sa.func.count(sa.distinct(Enrolment.person_id)))
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Cohort.programme_id.in_(programme_ids), Enrolment.active)
        .group_by(Cohort.programme_id)
    )
    return {**dict.fromkeys(programme_ids, 0), **{row[0]: row[1] for row in rows}}


def list_programmes(
    status: ProgrammeStatus | None = ProgrammeStatus.ACTIVE,
    programme_ids: Collection[int] | None = None,
) -> list[ProgrammeRow]:
    """Programmes (all when ``status`` is None; only ``programme_ids`` unless None) with
    their counts, in two queries."""
    cohort_count = (
        sa.select(sa.func.count(Cohort.id))
        .where(Cohort.programme_id == Programme.id)
        .scalar_subquery()
    )
    module_count = (
        sa.select(sa.func.count(Module.id))
        .where(Module.programme_id == Programme.id, Module.retired.is_(False))
        .scalar_subquery()
    )
    query = sa.select(Programme, cohort_count, module_count).order_by(Programme.code)
    if status is not None:
        query = query.where(Programme.status == status)
    rows = db.session.execute(query.where(in_programmes(Programme.id, programme_ids))).all()
    participants = participant_counts([p.id for p, _c, _m in rows])
    return [ProgrammeRow(p, c or 0, m or 0, participants.get(p.id, 0)) for p, c, m in rows]


@dataclass(frozen=True)
class ModuleRow:
    module: Module
    sessions: int

    @property
    def deletable(self) -> bool:
        return self.sessions == 0


@dataclass(frozen=True)
class CohortRow:
    cohort: Cohort
    enrolled: int
    sessions: int


@dataclass
class ProgrammeOverview:
    programme: Programme
    modules: list[ModuleRow]
    cohorts: list[CohortRow]
    participants: int
    partners: list[ProgrammePartner] = field(default_factory=list)

    @property
    def funders(self) -> list[ProgrammePartner]:
        return [p for p in self.partners if p.role == PartnerRole.FUNDER]

    @property
    def funded_share(self) -> Decimal:
        return sum((p.funding_share or Decimal(0) for p in self.funders), Decimal(0))

    @property
    def sessions(self) -> int:
        return sum(c.sessions for c in self.cohorts)

    @property
    def curriculum_hours(self) -> Decimal:
        return sum((r.module.hours for r in self.modules if not r.module.retired), Decimal(0))


def programme_overview(programme_id: int) -> ProgrammeOverview | None:
    """Everything the programme page shows, in a fixed number of queries."""
    programme = db.session.scalar(
        sa.select(Programme)
        .where(Programme.id == programme_id)
        .options(selectinload(Programme.partners))
    )
    if programme is None:
        return None
    used = (
        sa.select(sa.func.count(Session.id)).where(Session.module_id == Module.id).scalar_subquery()
    )
    modules = [
        ModuleRow(m, n or 0)
        for m, n in db.session.execute(
            sa.select(Module, used)
            .where(Module.programme_id == programme_id)
            .order_by(Module.position, Module.id)
        ).all()
    ]
    enrolled = (
        sa.select(sa.func.count(Enrolment.id))
        .where(Enrolment.cohort_id == Cohort.id, Enrolment.active)
        .scalar_subquery()
    )
    scheduled = (
        sa.select(sa.func.count(Session.id))
        .where(Session.cohort_id == Cohort.id, Session.scheduled)
        .scalar_subquery()
    )
    cohorts = [
        CohortRow(c, e or 0, s or 0)
        for c, e, s in db.session.execute(
            sa.select(Cohort, enrolled, scheduled)
            .where(Cohort.programme_id == programme_id)
            .order_by(Cohort.start_date, Cohort.name)
        ).all()
    ]
    participants = participant_counts([programme_id]).get(programme_id, 0)
    return ProgrammeOverview(
        programme=programme,
        modules=modules,
        cohorts=cohorts,
        participants=participants,
        partners=sorted(programme.partners, key=lambda p: (p.position, p.id)),
    )


# Partners, funders and modules (``curriculum``) and the shared rules, for the views, the CLI
# and the tests that reach them through this module.
from trainingmgr.programmes.curriculum import (  # noqa: E402,F401
    ModuleInput,
    PartnerInput,
    add_module,
    add_partner,
    curriculum,
    delete_module,
    delete_partner,
    module_usage,
    move_module,
    move_partner,
    set_retired,
    update_module,
    update_partner,
)
from trainingmgr.programmes.rules import CODE_MAX  # noqa: E402,F401
