"""Programmes, their partners and funders, and their curriculum modules.

Every rule lives here: views, the CLI and tests call these functions. They raise
``DomainError`` for bad input, record an audit event for every change, and never commit.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

import pycountry
import sqlalchemy as sa
from anyascii import anyascii
from babel import Locale
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from trainingmgr.accounts.models import Role, User
from trainingmgr.audit import services as audit
from trainingmgr.certificates.models import CertificateSerialCounter
from trainingmgr.cohorts.models import (
    ACTIVE_ENROLMENT,
    Cohort,
    Enrolment,
    Session,
    SessionStatus,
    cohort_required_modules,
)
from trainingmgr.core.errors import Checks, DomainError
from trainingmgr.core.scope import assign
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

CODE_MAX = 20
_CODE_RE = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")
MAX_BUDGET = Decimal("999999999999.99")  # Numeric(14, 2)
MAX_HOURS = Decimal("9999.99")  # Numeric(6, 2)


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


@dataclass
class PartnerInput:
    name: str
    role: PartnerRole | str = PartnerRole.PARTNER
    funding_share: Decimal | None = None
    # The funder is the European Union (certificates print the EU emblem).
    european_union: bool = False
    # A new logo (content, mimetype) checked by ``organisation.images.validate_image``, or
    # ``remove_logo``; neither keeps the current one.
    logo: tuple[bytes, str] | None = None
    remove_logo: bool = False


@dataclass
class ModuleInput:
    code: str
    title: str
    competence_area: str = ""
    hours: Decimal | None = Decimal("0")
    description: str = ""


# --------------------------------------------------------------------------- helpers


def _apply(obj: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set ``values`` on ``obj``; return ``{field: [old, new]}`` for those that changed."""
    changes: dict[str, list[Any]] = {}
    for name, new in values.items():
        old = getattr(obj, name)
        if old != new:
            changes[name] = [audit.jsonable(old), audit.jsonable(new)]
            setattr(obj, name, new)
    return changes


def _created(values: dict[str, Any]) -> dict[str, list[Any]]:
    return {name: [None, audit.jsonable(v)] for name, v in values.items() if v not in (None, "")}


def _record(action: str, actor: User | None, obj: Any, changes: dict[str, list[Any]]) -> None:
    """Audit a change to a programme, a partner or a module (named by its code or name)."""
    audit.record(
        action,
        actor=actor,
        obj=obj,
        programme_id=obj.id if isinstance(obj, Programme) else obj.programme_id,
        changes=changes,
        summary=obj.name if isinstance(obj, ProgrammePartner) else obj.code,
    )


def _update(actor: User | None, obj: Any, values: dict[str, Any], action: str) -> None:
    """Set ``values`` on ``obj`` and audit what changed (nothing is recorded if nothing did)."""
    changes = _apply(obj, values)
    if changes:
        db.session.flush()
        _record(action, actor, obj, changes)


def _text(value: str | None) -> str:
    return (value or "").strip()


def _required(value: str | None, field_name: str, message: str) -> str:
    value = _text(value)
    if not value:
        raise DomainError(message, field_name)
    return value


def _max_length(value: str, limit: int, field_name: str) -> str:
    if len(value) > limit:
        raise DomainError(
            _("Use at most %(n)d characters (this has %(len)d).", n=limit, len=len(value)),
            field_name,
        )
    return value


def normalise_code(value: str | None, field_name: str = "code") -> str:
    """An upper-case code of letters, digits and dashes ("mmdp-2026" -> "MMDP-2026")."""
    code = _required(value, field_name, _("Enter a code, for example MMDP-2026.")).upper()
    if not _CODE_RE.fullmatch(code):
        raise DomainError(
            _(
                "A code may contain only letters A-Z, digits and single dashes between "
                "them, for example MMDP-2026."
            ),
            field_name,
        )
    return _max_length(code, CODE_MAX, field_name)


def normalise_currency(value: str | None) -> str | None:
    """An ISO 4217 currency code ("eur" -> "EUR"), or None when left empty."""
    code = _text(value).upper()
    if not code:
        return None
    if len(code) != 3 or pycountry.currencies.get(alpha_3=code) is None:
        raise DomainError(
            _(
                "“%(code)s” is not an ISO 4217 currency code. Use three letters such as "
                "EUR, USD or AZN.",
                code=_text(value),
            ),
            "currency",
        )
    return code


def _country_key(text: str) -> str:
    key = re.sub(r"[^a-z0-9]+", " ", anyascii(text).casefold()).strip()
    return key.removeprefix("the ")


# Common names that neither ISO 3166 nor the CLDR use.
_COUNTRY_ALIASES = {
    "turkey": "TR",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "usa": "US",
    "ivory coast": "CI",
    "holland": "NL",
    "kirghizia": "KG",
}


@cache
def _country_names() -> dict[str, str]:
    """Folded country names (ISO 3166 and CLDR, in the app's languages) -> alpha-2 code."""
    names: dict[str, str] = {}
    codes = set()
    for country in pycountry.countries:
        codes.add(country.alpha_2)
        for attr in ("name", "official_name", "common_name"):
            if hasattr(country, attr):
                names.setdefault(_country_key(getattr(country, attr)), country.alpha_2)
    for language in ("en", "ru", "az"):
        for code, name in Locale.parse(language).territories.items():
            if code in codes:
                names.setdefault(_country_key(name), code)
    for alias, code in _COUNTRY_ALIASES.items():
        names.setdefault(alias, code)
    return names


def _country_code(token: str) -> str | None:
    if len(token) == 2 and token.isalpha():
        country = pycountry.countries.get(alpha_2=token.upper())
        if country is not None:
            return country.alpha_2
    if len(token) == 3 and token.isalpha():
        country = pycountry.countries.get(alpha_3=token.upper())
        if country is not None:
            return country.alpha_2
    return _country_names().get(_country_key(token))


def normalise_countries(value: Sequence[str] | str | None) -> list[str]:
    """ISO 3166 alpha-2 codes, in the order given and without repeats.

    Accepts codes ("az", "AZE") and names in English, Russian or Azerbaijani ("Georgia",
    "Турция", "Türkiye"), as a list or as text separated by commas, semicolons or lines.
    """
    if value is None:
        return []
    tokens = re.split(r"[,;\n]+", value) if isinstance(value, str) else list(value)
    codes: list[str] = []
    unknown: list[str] = []
    for raw in tokens:
        token = raw.strip()
        if not token:
            continue
        code = _country_code(token)
        if code is None:
            unknown.append(token)
        elif code not in codes:
            codes.append(code)
    if unknown:
        raise DomainError(
            _(
                "Unknown country: %(names)s. Enter ISO 3166 codes (AZ, GE) or country "
                "names, separated by commas.",
                names=", ".join(unknown),
            ),
            "target_countries",
        )
    return codes


def _choice(enum_cls: type[Any], value: Any, field_name: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        raise DomainError(_("Choose one of the options offered."), field_name) from None


def _number(
    value: Decimal | None,
    field_name: str,
    message: str,
    *,
    maximum: Decimal,
    above_zero: bool = False,
) -> Decimal | None:
    """``value`` if it lies in [0, maximum] (or (0, maximum]) with at most two decimals."""
    if value is None:
        return None
    value = Decimal(value)
    if not value.is_finite() or value < 0 or (above_zero and value == 0) or value > maximum:
        raise DomainError(message, field_name)
    if value != value.quantize(_CENT):
        raise DomainError(_("Use at most two decimal places."), field_name)
    return value


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
        _number,
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
        _number,
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
        lambda: _max_length(_required(data.title, "title", _("Enter a title.")), 250, "title")
    )
    kind = checks.run(_choice, ProgrammeKind, data.kind, "kind")
    rules = _programme_rules(data, checks)
    countries = checks.run(normalise_countries, data.target_countries)
    regions = checks.run(_max_length, _text(data.target_regions), 500, "target_regions")
    language = checks.run(
        _choice,
        CertificateLanguage,
        data.default_certificate_language,
        "default_certificate_language",
    )
    checks.done()
    return {
        "code": code,
        "title": title,
        "kind": kind,
        "description": _text(data.description),
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
    _record("programme.create", actor, programme, _created(values))
    if actor is not None and actor.has_role(Role.COORDINATOR):
        assign(actor, programme)  # its creator coordinates it (admins see every programme)
    return programme


def update_programme(
    programme: Programme, data: ProgrammeInput, *, actor: User | None
) -> Programme:
    _update(actor, programme, _programme_values(data, programme), "programme.update")
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
    _record(
        "programme.archive" if archived else "programme.unarchive",
        actor,
        programme,
        _apply(programme, {"status": status}),
    )
    return programme


def delete_programme(programme: Programme, *, actor: User | None) -> None:
    """Delete a programme that never had cohorts; otherwise explain that it can be archived."""
    cohorts = db.session.scalar(
        sa.select(sa.func.count(Cohort.id)).where(Cohort.programme_id == programme.id)
    )
    if cohorts:
        raise DomainError(
            _(
                "%(code)s has %(n)d cohort(s), so it cannot be deleted: their enrolments, "
                "attendance and certificates would be lost. Archive the programme instead.",
                code=programme.code,
                n=cohorts,
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


def participant_counts(programme_ids: Collection[int]) -> dict[int, int]:
    """{programme id: its distinct active participants} for these programmes (those with none
    are left out), in one grouped query read from the index on enrolments (cohort_id,
    status, person_id) alone."""
    if not programme_ids:
        return {}
    rows = db.session.execute(
        sa.select(Cohort.programme_id, sa.func.count(sa.distinct(Enrolment.person_id)))
        .join(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(
            Cohort.programme_id.in_(sorted(programme_ids)),
            Enrolment.status.in_(ACTIVE_ENROLMENT),
        )
        .group_by(Cohort.programme_id)
    )
    return {row[0]: row[1] for row in rows}


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
    if programme_ids is not None:
        query = query.where(Programme.id.in_(sorted(programme_ids)))
    rows = db.session.execute(query).all()
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
        .where(Enrolment.cohort_id == Cohort.id, Enrolment.status.in_(ACTIVE_ENROLMENT))
        .scalar_subquery()
    )
    scheduled = (
        sa.select(sa.func.count(Session.id))
        .where(Session.cohort_id == Cohort.id, Session.status == SessionStatus.SCHEDULED)
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


# --------------------------------------------------------------------------- ordering


def _renumber(items: Sequence[Any]) -> None:
    """Positions 0..n-1 in the current order (keeps them contiguous)."""
    for index, item in enumerate(items):
        if item.position != index:
            item.position = index


def _ordered(items: Sequence[Any]) -> list[Any]:
    return sorted(items, key=lambda item: (item.position, item.id or 0))


def _move(items: list[Any], item: Any, offset: int) -> int | None:
    """Move ``item`` by ``offset`` places in ``items``; return its old position or None."""
    _renumber(items)
    old = items.index(item)
    new = old + offset
    if offset == 0 or not 0 <= new < len(items):
        return None
    items.insert(new, items.pop(old))
    _renumber(items)
    return old


def _direction(value: str | int) -> int:
    if value in ("up", -1):
        return -1
    if value in ("down", 1):
        return 1
    raise DomainError(_("Move a row up or down."))


def _add_last(
    actor: User | None, action: str, items: list[Any], item: Any, values: dict[str, Any]
) -> Any:
    """Add ``item`` after ``items`` (its ordered siblings, renumbered) and audit it."""
    _renumber(items)
    item.position = len(items)
    db.session.add(item)
    db.session.flush()
    _record(action, actor, item, _created(values))
    return item


def _move_audited(
    actor: User | None, action: str, items: list[Any], item: Any, direction: str | int
) -> None:
    """Move ``item`` one place up or down ``items`` and audit it (nothing at either end)."""
    old = _move(items, item, _direction(direction))
    if old is not None:
        _record(action, actor, item, {"position": [old, item.position]})


# --------------------------------------------------------------------------- partners


def _partner_values(
    programme: Programme, data: PartnerInput, partner: ProgrammePartner | None
) -> dict[str, Any]:
    name = _max_length(
        _required(data.name, "name", _("Enter the name of the organisation.")), 250, "name"
    )
    role = _choice(PartnerRole, data.role, "role")
    share = data.funding_share
    others = [p for p in programme.partners if p is not partner]
    if data.european_union and role != PartnerRole.FUNDER:
        raise DomainError(
            _("Only a funder can be the European Union. Choose “Funder” or untick the box."),
            "european_union",
        )
    has_logo = data.logo is not None or (
        partner is not None and partner.logo is not None and not data.remove_logo
    )
    if has_logo and role != PartnerRole.FUNDER:
        raise DomainError(
            _("Certificates print the logos of funders only. Choose “Funder”, or remove the logo."),
            "logo",
        )
    if any(p.role == role and p.name.casefold() == name.casefold() for p in others):
        raise DomainError(
            _("%(name)s is already listed as a %(role)s.", name=name, role=str(role.label).lower()),
            "name",
        )
    if share is not None and role != PartnerRole.FUNDER:
        raise DomainError(
            _("Only funders have a share of funding. Choose “Funder” or leave the share empty."),
            "funding_share",
        )
    if share is not None:
        _number(
            share,
            "funding_share",
            _("A share of funding is a percentage above 0 and at most 100."),
            maximum=_HUNDRED,
            above_zero=True,
        )
        total = share + sum(
            (p.funding_share or Decimal(0) for p in others if p.role == PartnerRole.FUNDER),
            Decimal(0),
        )
        if total > _HUNDRED:
            raise DomainError(
                _(
                    "The funders' shares would total %(total)s%%, more than 100%%. "
                    "Lower this share to at most %(room)s%% or correct the other funders.",
                    total=f"{total:.2f}",
                    room=f"{share - (total - _HUNDRED):.2f}",
                ),
                "funding_share",
            )
    return {
        "name": name,
        "role": role,
        "funding_share": share,
        "european_union": bool(data.european_union),
    }


def _logo_text(content: bytes | None, mimetype: str | None) -> str | None:
    """How the audit trail names a logo (never its bytes)."""
    return None if content is None else f"{mimetype}, {len(content)} bytes"


def _apply_logo(partner: ProgrammePartner, data: PartnerInput) -> dict[str, list[Any]]:
    """Set or remove the partner's logo as ``data`` asks; ``{"logo": [old, new]}`` if changed."""
    if data.logo is None and not data.remove_logo:
        return {}
    before = _logo_text(partner.logo, partner.logo_mimetype)
    content, mimetype = data.logo if data.logo is not None else (None, None)
    partner.logo, partner.logo_mimetype = content, mimetype
    after = _logo_text(content, mimetype)
    return {"logo": [before, after]} if before != after else {}


def add_partner(
    programme: Programme, data: PartnerInput, *, actor: User | None
) -> ProgrammePartner:
    values = _partner_values(programme, data, None)
    partners = _ordered(programme.partners)
    partner = ProgrammePartner(programme=programme, **values)
    logo = _apply_logo(partner, data)
    if not values["european_union"]:
        del values["european_union"]
    _renumber(partners)
    partner.position = len(partners)
    db.session.add(partner)
    db.session.flush()
    _record("programme.partner_add", actor, partner, {**_created(values), **logo})
    return partner


def update_partner(
    partner: ProgrammePartner, data: PartnerInput, *, actor: User | None
) -> ProgrammePartner:
    values = _partner_values(partner.programme, data, partner)
    changes = {**_apply(partner, values), **_apply_logo(partner, data)}
    if changes:
        db.session.flush()
        _record("programme.partner_update", actor, partner, changes)
    return partner


def remove_partner(partner: ProgrammePartner, *, actor: User | None) -> None:
    programme = partner.programme
    _record(
        "programme.partner_remove",
        actor,
        partner,
        {
            "name": [partner.name, None],
            "role": [audit.jsonable(partner.role), None],
            "funding_share": [audit.jsonable(partner.funding_share), None],
        },
    )
    programme.partners.remove(partner)
    db.session.flush()
    _renumber(_ordered(programme.partners))


def move_partner(partner: ProgrammePartner, direction: str | int, *, actor: User | None) -> None:
    """Move a partner one place up or down the list (nothing happens at either end)."""
    items = _ordered(partner.programme.partners)
    _move_audited(actor, "programme.partner_move", items, partner, direction)


# --------------------------------------------------------------------------- modules


def _module_values(
    programme: Programme, data: ModuleInput, module: Module | None
) -> dict[str, Any]:
    code = normalise_code(data.code)
    clash = sa.select(Module.id).where(
        Module.programme_id == programme.id, sa.func.upper(Module.code) == code
    )
    if module is not None:
        clash = clash.where(Module.id != module.id)
    if db.session.scalar(clash.limit(1)) is not None:
        raise DomainError(
            _(
                "Another module of %(programme)s already uses the code %(code)s. "
                "Choose another code.",
                programme=programme.code,
                code=code,
            ),
            "code",
        )
    hours = data.hours if data.hours is not None else Decimal(0)
    return {
        "code": code,
        "title": _max_length(_required(data.title, "title", _("Enter a title.")), 250, "title"),
        "competence_area": _max_length(_text(data.competence_area), 250, "competence_area"),
        "hours": _number(
            hours,
            "hours",
            _("Enter the hours as a number from 0 to %(max)s.", max=MAX_HOURS),
            maximum=MAX_HOURS,
        ),
        "description": _text(data.description),
    }


def curriculum(programme_id: int) -> list[Module]:
    """A programme's modules in order (retired ones included)."""
    return list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.programme_id == programme_id)
            .order_by(Module.position, Module.id)
        )
    )


def add_module(programme: Programme, data: ModuleInput, *, actor: User | None) -> Module:
    """Add a module at the end of the curriculum."""
    values = _module_values(programme, data, None)
    modules = curriculum(programme.id)  # before the new module joins the session
    return _add_last(actor, "module.create", modules, Module(programme=programme, **values), values)


def update_module(module: Module, data: ModuleInput, *, actor: User | None) -> Module:
    _update(actor, module, _module_values(module.programme, data, module), "module.update")
    return module


def move_module(module: Module, direction: str | int, *, actor: User | None) -> None:
    """Move a module one place up or down the curriculum (nothing happens at either end)."""
    _move_audited(actor, "module.move", curriculum(module.programme_id), module, direction)


def set_retired(module: Module, retired: bool, *, actor: User | None) -> Module:
    """Retire a module (kept for past sessions, offered no more) or bring it back."""
    if module.retired == retired:
        raise DomainError(
            _("This module is already retired.") if retired else _("This module is not retired.")
        )
    _record(
        "module.retire" if retired else "module.unretire",
        actor,
        module,
        _apply(module, {"retired": retired}),
    )
    return module


def module_usage(module: Module) -> tuple[int, int]:
    """How many sessions use ``module`` and how many cohorts require it."""
    sessions = db.session.scalar(
        sa.select(sa.func.count(Session.id)).where(Session.module_id == module.id)
    )
    cohorts = db.session.scalar(
        sa.select(sa.func.count()).where(cohort_required_modules.c.module_id == module.id)
    )
    return sessions or 0, cohorts or 0


def delete_module(module: Module, *, actor: User | None) -> None:
    """Delete a module no session uses and no cohort requires; otherwise it can be retired."""
    sessions, cohorts = module_usage(module)
    if sessions:
        raise DomainError(
            _(
                "%(code)s is used by %(n)d session(s), so it cannot be deleted. "
                "Retire it instead: it stays on past sessions and is offered no more.",
                code=module.code,
                n=sessions,
            )
        )
    if cohorts:
        raise DomainError(
            _(
                "%(code)s is required by %(n)d cohort(s), so it cannot be deleted. "
                "Retire it instead, or remove it from those cohorts' completion rules.",
                code=module.code,
                n=cohorts,
            )
        )
    programme_id = module.programme_id
    _record(
        "module.delete", actor, module, {"code": [module.code, None], "title": [module.title, None]}
    )
    module.programme.modules.remove(module)
    db.session.flush()
    _renumber(curriculum(programme_id))
