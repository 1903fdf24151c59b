"""The organisation's settings, logos and the signatories certificates print.

Signatories and logos belong to an *owner*: the organisation (``programme_id`` None: its
defaults) or a programme (its own, which replace the defaults on its certificates). The same
functions serve both, so the settings page and the programme page behave alike.
Functions raise ``DomainError`` for bad input, record an audit event for every change and
never commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context
from flask_babel import gettext as _

from trainingmgr.audit import services as audit
from trainingmgr.core.errors import DomainError
from trainingmgr.core.timefmt import is_valid_timezone
from trainingmgr.extensions import db
from trainingmgr.organisation.fonts import CheckedFont
from trainingmgr.organisation.models import OrganisationSettings, Signatory
from trainingmgr.programmes.models import CertificateLanguage, Programme

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User

# A certificate has room for this many signatures.
MAX_SIGNATORIES = 3
NAME_MAX = 250
SIGNATORY_NAME_MAX = 200
SIGNATORY_TITLE_MAX = 250

LogoOwner = OrganisationSettings | Programme


# --------------------------------------------------------------------------- settings


def get_settings() -> OrganisationSettings:
    """The settings row, created from the configuration's defaults the first time."""
    settings = db.session.get(OrganisationSettings, 1)
    if settings is None:
        settings = OrganisationSettings(
            id=1,
            name=current_app.config.get("ORGANISATION_NAME", "Training Centre"),
            default_timezone=current_app.config.get("DEFAULT_TIMEZONE", "UTC"),
        )
        db.session.add(settings)
        db.session.flush()
    return settings


def stored_settings() -> OrganisationSettings | None:
    """The settings row if it was ever saved (reading it never writes)."""
    return db.session.get(OrganisationSettings, 1)


def default_timezone() -> str:
    """The time zone new cohorts are proposed when nothing better is known."""
    settings = stored_settings()
    if settings is not None and is_valid_timezone(settings.default_timezone):
        return settings.default_timezone
    return current_app.config.get("DEFAULT_TIMEZONE", "UTC")


def default_certificate_language() -> CertificateLanguage:
    """The certificate language new programmes are proposed."""
    settings = stored_settings()
    if settings is not None and settings.default_certificate_language:
        return CertificateLanguage(settings.default_certificate_language)
    return CertificateLanguage.EN


def two_factor_policy() -> tuple[bool, bool]:
    """Whether two-factor sign-in is required for (administrators, coordinators).

    For administrators the default, until an administrator decides, is "required" in
    production and "optional" elsewhere (the demo's accounts sign in with a password).
    """
    settings = stored_settings()
    admins = settings.two_factor_admins if settings is not None else None
    if admins is None:
        admins = current_app.config.get("TRAININGMGR_ENV") == "production"
    return bool(admins), bool(settings is not None and settings.two_factor_coordinators)


@dataclass
class SettingsInput:
    name: str
    default_certificate_language: CertificateLanguage | str = CertificateLanguage.EN
    default_timezone: str = "UTC"
    # None: leave as it is.
    two_factor_admins: bool | None = None
    two_factor_coordinators: bool | None = None


def _text(value: str | None) -> str:
    return " ".join((value or "").split())


def _bounded(value: str | None, limit: int, field: str, required: str | None = None) -> str:
    text = _text(value)
    if required and not text:
        raise DomainError(required, field)
    if len(text) > limit:
        raise DomainError(
            _("Use at most %(n)d characters (this has %(len)d).", n=limit, len=len(text)),
            field,
        )
    return text


def update_settings(data: SettingsInput, *, actor: User) -> OrganisationSettings:
    """Save the organisation's name, default certificate language and time zone."""
    name = _bounded(data.name, NAME_MAX, "name", _("Enter the organisation's name."))
    try:
        language = CertificateLanguage(data.default_certificate_language)
    except ValueError:
        raise DomainError(
            _("Choose one of the options offered."), "default_certificate_language"
        ) from None
    zone = (data.default_timezone or "").strip()
    if not is_valid_timezone(zone):
        raise DomainError(
            _(
                "“%(zone)s” is not a time zone. Choose one from the list, for example "
                "Europe/Amsterdam or Asia/Baku.",
                zone=zone,
            ),
            "default_timezone",
        )
    settings = get_settings()
    values: dict[str, Any] = {
        "name": name,
        "default_certificate_language": language,
        "default_timezone": zone,
    }
    if data.two_factor_admins is not None:
        values["two_factor_admins"] = data.two_factor_admins
    if data.two_factor_coordinators is not None:
        values["two_factor_coordinators"] = data.two_factor_coordinators
    changes = audit.apply_values(settings, values)
    if changes:
        db.session.flush()
        audit.record(
            "organisation.update", actor=actor, obj=settings, changes=changes, summary=name
        )
    return settings


# --------------------------------------------------------------------------- logos


def logo_owner(programme_id: int | None) -> LogoOwner:
    """The programme (which must exist) or the organisation's settings."""
    if programme_id is None:
        return get_settings()
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise DomainError(_("This programme does not exist."))
    return programme


def _replace_logo(
    owner: LogoOwner, content: bytes | None, mimetype: str | None, after: str | None, *, actor: User
) -> None:
    """Store ``owner``'s new logo (None: none) and record the change, ``after`` in words."""
    before = "none" if owner.logo is None else owner.logo_mimetype
    owner.logo = content
    owner.logo_mimetype = mimetype
    db.session.flush()
    is_programme = isinstance(owner, Programme)
    audit.record(
        "programme.logo" if is_programme else "organisation.logo",
        actor=actor,
        obj=owner,
        programme_id=owner.id if is_programme else None,
        changes={"logo": [before, after]},
        summary=owner.code if isinstance(owner, Programme) else owner.name,
    )


def set_logo(owner: LogoOwner, content: bytes, mimetype: str, *, actor: User) -> None:
    """Replace ``owner``'s logo with an image checked by ``images.validate_image``."""
    _replace_logo(owner, content, mimetype, f"{mimetype}, {len(content)} bytes", actor=actor)


def remove_logo(owner: LogoOwner, *, actor: User) -> None:
    if owner.logo is None:
        raise DomainError(_("There is no logo to remove."))
    _replace_logo(owner, None, None, None, actor=actor)


# --------------------------------------------------------------------------- fallback font


def set_fallback_font(font: CheckedFont, *, actor: User) -> OrganisationSettings:
    """Keep ``font`` (checked by ``organisation.fonts.validate_font``) as the certificates'
    last fallback font, replacing any other. Certificates already issued keep their bytes."""
    settings = get_settings()
    before = settings.fallback_font_name
    settings.fallback_font = font.data
    settings.fallback_font_name = font.name
    settings.fallback_font_sha256 = hashlib.sha256(font.data).hexdigest()
    db.session.flush()
    audit.record(
        "organisation.font",
        actor=actor,
        obj=settings,
        changes={"fallback_font": [before, f"{font.name}, {len(font.data)} bytes"]},
        summary=font.name,
    )
    return settings


def remove_fallback_font(*, actor: User) -> None:
    settings = get_settings()
    if settings.fallback_font_sha256 is None:
        raise DomainError(_("There is no certificate font to remove."))
    before = settings.fallback_font_name
    settings.fallback_font = None
    settings.fallback_font_name = None
    settings.fallback_font_sha256 = None
    db.session.flush()
    audit.record(
        "organisation.font",
        actor=actor,
        obj=settings,
        changes={"fallback_font": [before, None]},
        summary=before or "",
    )


# --------------------------------------------------------------------------- signatories


def own_signatories(programme_id: int | None) -> list[Signatory]:
    """The owner's own signatories, in order (the organisation's defaults for None)."""
    cond = (
        Signatory.programme_id.is_(None)
        if programme_id is None
        else Signatory.programme_id == programme_id
    )
    return list(
        db.session.scalars(
            sa.select(Signatory).where(cond).order_by(Signatory.position, Signatory.id)
        )
    )


def own_and_default_signatories(programme_id: int) -> tuple[list[Signatory], list[Signatory]]:
    """The programme's own signatories and the organisation's defaults, in one query."""
    rows = db.session.scalars(
        sa.select(Signatory)
        .where(sa.or_(Signatory.programme_id == programme_id, Signatory.programme_id.is_(None)))
        .order_by(Signatory.position, Signatory.id)
    ).all()
    own = [s for s in rows if s.programme_id is not None]
    return own, [s for s in rows if s.programme_id is None]


def settings_for_reading() -> OrganisationSettings | None:
    """The settings row if there is one, read without writing, once per request (the footer
    shows the name, times fall back to the default zone: one query between them, even when
    there is no row yet)."""
    if not has_request_context():
        return db.session.get(OrganisationSettings, 1)
    if "organisation_settings" not in g:
        g.organisation_settings = db.session.get(OrganisationSettings, 1)
    return g.organisation_settings


def remember_settings(settings: OrganisationSettings | None) -> None:
    """The settings row (or None: no row yet) read with something else at the start of a
    request (the sign-in), so that ``settings_for_reading`` need not read it again."""
    if has_request_context():
        g.organisation_settings = settings


def organisation_name() -> str:
    """The organisation's name, read without writing (pages show it; the settings row is
    created only when something needs to change it)."""
    settings = settings_for_reading()
    return settings.name if settings is not None else current_app.config["ORGANISATION_NAME"]


def signatories_for(programme_id: int | None) -> list[Signatory]:
    """The programme's own signatories, or the organisation's defaults when it has none."""
    own = own_signatories(programme_id) if programme_id is not None else []
    return own or own_signatories(None)


@dataclass
class SignatoryInput:
    name: str
    title: str = ""


def _signatory_values(data: SignatoryInput) -> dict[str, str]:
    return {
        "name": _bounded(
            data.name, SIGNATORY_NAME_MAX, "name", _("Enter the name of the person who signs.")
        ),
        "title": _bounded(data.title, SIGNATORY_TITLE_MAX, "title"),
    }


def _record_signatory(action: str, signatory: Signatory, changes: dict, *, actor: User) -> None:
    audit.record(
        action,
        actor=actor,
        obj=signatory,
        programme_id=signatory.programme_id,
        changes=changes,
        summary=signatory.name,
    )


def _renumber(items: Sequence[Signatory]) -> None:
    for index, item in enumerate(items):
        if item.position != index:
            item.position = index


def add_signatory(
    programme_id: int | None,
    data: SignatoryInput,
    signature: tuple[bytes, str] | None = None,
    *,
    actor: User,
) -> Signatory:
    """Add a signatory after the owner's others (at most ``MAX_SIGNATORIES``)."""
    values = _signatory_values(data)
    siblings = own_signatories(programme_id)
    if len(siblings) >= MAX_SIGNATORIES:
        raise DomainError(
            _(
                "A certificate has room for %(n)d signatures. Remove a signatory before "
                "adding another.",
                n=MAX_SIGNATORIES,
            )
        )
    _renumber(siblings)
    signatory = Signatory(programme_id=programme_id, position=len(siblings), **values)
    if signature is not None:
        signatory.signature, signatory.signature_mimetype = signature
    db.session.add(signatory)
    db.session.flush()
    changes: dict[str, list[Any]] = {k: [None, v] for k, v in values.items() if v}
    if signature is not None:
        changes["signature"] = [None, signature[1]]
    _record_signatory("signatory.create", signatory, changes, actor=actor)
    return signatory


def update_signatory(
    signatory: Signatory,
    data: SignatoryInput,
    signature: tuple[bytes, str] | None = None,
    remove_signature: bool = False,
    *,
    actor: User,
) -> Signatory:
    """Change a signatory's name and title; replace or remove the signature image."""
    changes = audit.apply_values(signatory, _signatory_values(data))
    if signature is not None:
        before = signatory.signature_mimetype if signatory.signature is not None else None
        signatory.signature, signatory.signature_mimetype = signature
        changes["signature"] = [before, f"{signature[1]}, {len(signature[0])} bytes (new)"]
    elif remove_signature and signatory.signature is not None:
        changes["signature"] = [signatory.signature_mimetype, None]
        signatory.signature = None
        signatory.signature_mimetype = None
    if changes:
        db.session.flush()
        _record_signatory("signatory.update", signatory, changes, actor=actor)
    return signatory


def move_signatory(signatory: Signatory, direction: str, *, actor: User) -> None:
    """Move a signatory one place up or down (nothing happens at either end)."""
    if direction not in ("up", "down"):
        raise DomainError(_("Move a row up or down."))
    items = own_signatories(signatory.programme_id)
    _renumber(items)
    old = items.index(signatory)
    new = old + (-1 if direction == "up" else 1)
    if not 0 <= new < len(items):
        return
    items.insert(new, items.pop(old))
    _renumber(items)
    db.session.flush()
    _record_signatory("signatory.move", signatory, {"position": [old, new]}, actor=actor)


def remove_signatory(signatory: Signatory, *, actor: User) -> None:
    programme_id = signatory.programme_id
    _record_signatory(
        "signatory.delete",
        signatory,
        {"name": [signatory.name, None], "title": [signatory.title, None]},
        actor=actor,
    )
    db.session.delete(signatory)
    db.session.flush()
    _renumber(own_signatories(programme_id))
