"""A programme's partners and funders (logos, funding shares) and its curriculum modules:
adding, editing, ordering, retiring and removing them. Like ``services``: raise
``DomainError``, audit every change, never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext

from trainingmgr.accounts.models import User
from trainingmgr.audit import services as audit
from trainingmgr.cohorts.models import (
    Session,
    cohort_required_modules,
)
from trainingmgr.core.errors import DomainError
from trainingmgr.extensions import db
from trainingmgr.programmes import rules
from trainingmgr.programmes.models import (
    Module,
    PartnerRole,
    Programme,
    ProgrammePartner,
)

# --------------------------------------------------------------------------- inputs


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
    action: str, items: list[Any], item: Any, values: dict[str, Any], *, actor: User | None
) -> Any:
    """Add ``item`` after ``items`` (its ordered siblings, renumbered) and audit it."""
    _renumber(items)
    item.position = len(items)
    db.session.add(item)
    db.session.flush()
    rules.record_change(action, item, rules.created_values(values), actor=actor)
    return item


def _move_audited(
    action: str, items: list[Any], item: Any, direction: str | int, *, actor: User | None
) -> None:
    """Move ``item`` one place up or down ``items`` and audit it (nothing at either end)."""
    old = _move(items, item, _direction(direction))
    if old is not None:
        rules.record_change(action, item, {"position": [old, item.position]}, actor=actor)


# --------------------------------------------------------------------------- partners


def _partner_values(
    programme: Programme, data: PartnerInput, partner: ProgrammePartner | None
) -> dict[str, Any]:
    name = rules.max_length(
        rules.required(data.name, "name", _("Enter the name of the organisation.")), 250, "name"
    )
    role = rules.choice(PartnerRole, data.role, "role")
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
        rules.number(
            share,
            "funding_share",
            _("A share of funding is a percentage above 0 and at most 100."),
            maximum=rules.HUNDRED,
            above_zero=True,
        )
        total = share + sum(
            (p.funding_share or Decimal(0) for p in others if p.role == PartnerRole.FUNDER),
            Decimal(0),
        )
        if total > rules.HUNDRED:
            raise DomainError(
                _(
                    "The funders' shares would total %(total)s%%, more than 100%%. "
                    "Lower this share to at most %(room)s%% or correct the other funders.",
                    total=f"{total:.2f}",
                    room=f"{share - (total - rules.HUNDRED):.2f}",
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
    rules.record_change(
        "programme.partner_add", partner, {**rules.created_values(values), **logo}, actor=actor
    )
    return partner


def update_partner(
    partner: ProgrammePartner, data: PartnerInput, *, actor: User | None
) -> ProgrammePartner:
    values = _partner_values(partner.programme, data, partner)
    changes = {**audit.apply_values(partner, values), **_apply_logo(partner, data)}
    if changes:
        db.session.flush()
        rules.record_change("programme.partner_update", partner, changes, actor=actor)
    return partner


def delete_partner(partner: ProgrammePartner, *, actor: User | None) -> None:
    programme = partner.programme
    rules.record_change(
        "programme.partner_remove",
        partner,
        {
            "name": [partner.name, None],
            "role": [audit.jsonable(partner.role), None],
            "funding_share": [audit.jsonable(partner.funding_share), None],
        },
        actor=actor,
    )
    programme.partners.remove(partner)
    db.session.flush()
    _renumber(_ordered(programme.partners))


def move_partner(partner: ProgrammePartner, direction: str | int, *, actor: User | None) -> None:
    """Move a partner one place up or down the list (nothing happens at either end)."""
    items = _ordered(partner.programme.partners)
    _move_audited("programme.partner_move", items, partner, direction, actor=actor)


# --------------------------------------------------------------------------- modules


def _module_values(
    programme: Programme, data: ModuleInput, module: Module | None
) -> dict[str, Any]:
    code = rules.normalise_code(data.code)
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
        "title": rules.max_length(
            rules.required(data.title, "title", _("Enter a title.")), 250, "title"
        ),
        "competence_area": rules.max_length(
            rules.clean(data.competence_area), 250, "competence_area"
        ),
        "hours": rules.number(
            hours,
            "hours",
            _("Enter the hours as a number from 0 to %(max)s.", max=rules.MAX_HOURS),
            maximum=rules.MAX_HOURS,
        ),
        "description": rules.clean(data.description),
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
    return _add_last(
        "module.create", modules, Module(programme=programme, **values), values, actor=actor
    )


def update_module(module: Module, data: ModuleInput, *, actor: User | None) -> Module:
    rules.update_audited(
        module, _module_values(module.programme, data, module), "module.update", actor=actor
    )
    return module


def move_module(module: Module, direction: str | int, *, actor: User | None) -> None:
    """Move a module one place up or down the curriculum (nothing happens at either end)."""
    _move_audited("module.move", curriculum(module.programme_id), module, direction, actor=actor)


def set_retired(module: Module, retired: bool, *, actor: User | None) -> Module:
    """Retire a module (kept for past sessions, offered no more) or bring it back."""
    if module.retired == retired:
        raise DomainError(
            _("This module is already retired.") if retired else _("This module is not retired.")
        )
    rules.update_audited(
        module,
        {"retired": retired},
        "module.retire" if retired else "module.unretire",
        actor=actor,
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
            ngettext(
                "%(code)s is used by %(num)d session, so it cannot be deleted. "
                "Retire it instead: it stays on past sessions and is offered no more.",
                "%(code)s is used by %(num)d sessions, so it cannot be deleted. "
                "Retire it instead: it stays on past sessions and is offered no more.",
                sessions,
                code=module.code,
            )
        )
    if cohorts:
        raise DomainError(
            ngettext(
                "%(code)s is required by %(num)d cohort, so it cannot be deleted. "
                "Retire it instead, or remove it from that cohort's completion rules.",
                "%(code)s is required by %(num)d cohorts, so it cannot be deleted. "
                "Retire it instead, or remove it from those cohorts' completion rules.",
                cohorts,
                code=module.code,
            )
        )
    programme_id = module.programme_id
    rules.record_change(
        "module.delete",
        module,
        {"code": [module.code, None], "title": [module.title, None]},
        actor=actor,
    )
    module.programme.modules.remove(module)
    db.session.flush()
    _renumber(curriculum(programme_id))
