"""Issuing, revoking, reissuing and verifying completion certificates.

A certificate is an immutable record: everything printed is copied into its ``snapshot``
(format in ``docs/certificates.md``) when it is issued, and the PDF is rendered from that
snapshot alone, so it can be rendered again at any time with the same bytes. Images (the logo,
signatures) are kept as ``CertificateAsset`` rows, stored once by SHA-256 and named by hash in
the snapshot: changing a programme's logo or a signature later changes only certificates
issued afterwards.

- ``issue`` gives at most one valid certificate per enrolment (issuing twice returns the first).
  Someone the completion rule does not find eligible gets one only with a written reason.
  The enrolment becomes ``completed`` (from ``enrolled`` or ``not_completed``).
- A correction (a misspelt name) is a ``reissue``: a new certificate with a new serial and code
  from a fresh snapshot; the old one is kept, marked superseded.
- ``revoke`` keeps the certificate (the verification page says it was revoked) and leaves the
  enrolment's status alone: a coordinator changes it if the revocation means the person did
  not complete.

Modules printed: those the participant attended (present or late at least once in a session
that was not cancelled), in curriculum order, not the whole curriculum: the certificate states
what the holder did. Hours are the hours attended from ``attendance_summary``.

Services do not commit; the caller does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from babel import Locale
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from trainingmgr.accounts.models import Role
from trainingmgr.attendance.bulk import attended_modules
from trainingmgr.attendance.services import Summary
from trainingmgr.audit import services as audit
from trainingmgr.certificates import codes, pdf
from trainingmgr.certificates.eligibility import Eligibility, eligibility
from trainingmgr.certificates.models import (
    Certificate,
    CertificateAsset,
    CertificateSerialCounter,
    CertificateStatus,
)
from trainingmgr.cohorts.models import ACTIVE_ENROLMENT, Cohort, Enrolment, EnrolmentStatus
from trainingmgr.core import urls
from trainingmgr.core.errors import DomainError
from trainingmgr.core.types import utcnow
from trainingmgr.enrolments.services import STATUS_ACTION
from trainingmgr.extensions import db
from trainingmgr.mail import notify
from trainingmgr.organisation.models import OrganisationSettings
from trainingmgr.organisation.services import get_settings, signatories_for
from trainingmgr.people.models import Sex
from trainingmgr.programmes.models import PartnerRole, Programme, ProgrammePartner


@dataclass
class IssueResult:
    """What ``issue_all_eligible`` did, enrolment by enrolment."""

    issued: list[Certificate] = field(default_factory=list)
    already: list[Certificate] = field(default_factory=list)
    # (enrolment, why it is not eligible): issuing those needs a reason, one by one.
    not_eligible: list[tuple[Enrolment, Eligibility]] = field(default_factory=list)
    # Eligible, but their certificate was revoked: a revocation sticks, so "issue all" leaves
    # them alone; a coordinator issues again one by one if it was a mistake.
    revoked: list[Enrolment] = field(default_factory=list)
    # Eligible, but their name has letters no certificate font has: left out (the others are
    # issued); the letters are named so the name or the fonts can be corrected.
    unprintable: list[tuple[Enrolment, list[str]]] = field(default_factory=list)


# --- Snapshot -----------------------------------------------------------------------------


def _hours_text(value: Decimal) -> str:
    """Hours as printed, the same in every locale: "24", "12.5"."""
    return format(Decimal(value).normalize(), "f")


def _place(cohort: Cohort, lang: str) -> str:
    country = ""
    if cohort.country:
        country = Locale.parse(lang).territories.get(cohort.country.upper(), cohort.country)
    return ", ".join(p for p in (cohort.venue, cohort.city, country) if p)


# --- Images kept with the certificate ------------------------------------------------------

_SHA256 = frozenset("0123456789abcdef")


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= _SHA256


def _mimetype(data: bytes, given: str | None) -> str:
    if given:
        return given[:30]
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return "application/octet-stream"


def store_assets(images: Sequence[tuple[bytes, str | None]]) -> list[str]:
    """Keep each image (content, mimetype) as a ``CertificateAsset``, once per content, and
    return their SHA-256 in order.

    One SELECT for the hashes already kept, then one ``INSERT ... ON CONFLICT DO NOTHING``
    for the others: two issuers storing the same new image at the same moment both succeed.
    """
    hashes = [hashlib.sha256(data).hexdigest() for data, _mime in images]
    wanted = dict(zip(hashes, images, strict=True))
    if not wanted:
        return hashes
    kept = set(
        db.session.scalars(
            sa.select(CertificateAsset.sha256).where(CertificateAsset.sha256.in_(list(wanted)))
        )
    )
    now = utcnow()
    rows = [
        {"sha256": sha, "mimetype": _mimetype(data, mime), "data": data, "created_at": now}
        for sha, (data, mime) in wanted.items()
        if sha not in kept
    ]
    if rows:
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        db.session.execute(
            dialect.insert(CertificateAsset)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["sha256"])
        )
    return hashes


def load_assets(hashes: Sequence[str]) -> dict[str, bytes]:
    """{sha256: image bytes} of the given kept images (one query; none for an empty list)."""
    if not hashes:
        return {}
    rows = db.session.execute(
        sa.select(CertificateAsset.sha256, CertificateAsset.data).where(
            CertificateAsset.sha256.in_(list(hashes))
        )
    )
    return {sha: bytes(data) for sha, data in rows}


# --- Letterhead: issuer, logo, signatories --------------------------------------------------


def _signatory_items(
    programme: Programme, given: Sequence[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """{name, title, signature: (bytes, mimetype) | sha256 | None} of the signatories."""
    if given is None:
        return [
            {
                "name": row.name,
                "title": row.title,
                "signature": (row.signature, row.signature_mimetype) if row.signature else None,
            }
            for row in signatories_for(programme.id)
        ]
    items = []
    for item in given:
        signature = item.get("signature")
        if isinstance(signature, bytes | bytearray | memoryview):
            signature = (bytes(signature), None)
        items.append({**item, "signature": signature})
    return items


def letterhead(
    programme: Programme, *, signatories: Sequence[Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """What every certificate of ``programme`` prints apart from its holder: the issuer (the
    organisation's name), the logo (the programme's, else the organisation's) and the
    signatories (the programme's own, else the organisation's defaults; ``signatories``
    replaces them, for tests). Images are kept as ``CertificateAsset`` rows and named by
    their SHA-256, so later changes to a logo or a signature do not change issued
    certificates.
    """
    settings = get_settings()
    items = [
        item
        for item in _signatory_items(programme, signatories)
        if str(item.get("name") or "").strip()
    ]
    logo: tuple[bytes, str | None] | None = None
    if programme.logo:
        logo = (programme.logo, programme.logo_mimetype)
    elif settings.logo:
        logo = (settings.logo, settings.logo_mimetype)
    funders = _funders(programme)
    images = [logo] if logo else []
    images += [i["signature"] for i in items if isinstance(i["signature"], tuple)]
    images += [f["logo"] for f in funders if f["logo"] is not None]
    hashes = iter(store_assets(images))
    logo_hash = next(hashes) if logo else None
    people = []
    for item in items:
        signature = item["signature"]
        if isinstance(signature, tuple):
            signature = next(hashes)
        people.append(
            {
                "name": str(item.get("name") or "").strip(),
                "title": str(item.get("title") or "").strip(),
                "signature": signature if _is_sha256(signature) else None,
            }
        )
    funding = [
        {"name": f["name"], "logo": next(hashes) if f["logo"] is not None else None, "eu": f["eu"]}
        for f in funders
    ]
    return {
        "issuer": {"name": settings.name},
        "logo": logo_hash,
        "signatories": people,
        "funding": funding,
    }


def _funders(programme: Programme) -> list[dict[str, Any]]:
    """The programme's funders in order: {name, logo: (bytes, mimetype) | None, eu} (one
    query, logos included)."""
    rows = db.session.execute(
        sa.select(
            ProgrammePartner.name,
            ProgrammePartner.logo,
            ProgrammePartner.logo_mimetype,
            ProgrammePartner.european_union,
        )
        .where(
            ProgrammePartner.programme_id == programme.id,
            ProgrammePartner.role == PartnerRole.FUNDER,
        )
        .order_by(ProgrammePartner.position, ProgrammePartner.id)
    )
    return [
        {
            "name": name,
            "logo": (bytes(data), mimetype) if data and not eu else None,
            "eu": bool(eu),
        }
        for name, data, mimetype, eu in rows
    ]


def build_snapshot(
    enrolment: Enrolment,
    *,
    signatories: Sequence[Mapping[str, Any]] | None = None,
    head: Mapping[str, Any] | None = None,
    summary: Summary | None = None,
    attended_module_ids: set[int] | None = None,
    serial: str = "",
    issued_on: date | None = None,
) -> dict[str, Any]:
    """Everything a certificate prints for ``enrolment`` (the format of the ``pdf`` package).

    ``head`` (``letterhead()``), ``summary`` and ``attended_module_ids`` are computed when not
    given (issuing a batch passes them, computed once for the whole batch).
    """
    cohort = enrolment.cohort
    programme = cohort.programme
    person = enrolment.person
    if head is None:
        head = letterhead(programme, signatories=signatories)
    if summary is None:
        summary = eligibility(cohort.id, [enrolment.id])[enrolment.id].summary
    if attended_module_ids is None:
        attended_module_ids = attended_modules(
            cohort.id, [enrolment.id], [m.id for m in programme.modules]
        )[enrolment.id]
    language = cohort.certificate_language.value
    modules = sorted(
        (m for m in programme.modules if m.id in attended_module_ids),
        key=lambda m: (m.position, m.code),
    )
    return {
        "language": language,
        "holder": {
            "name": person.full_name,
            "name_latin": person.name_latin or None,
            # For languages whose wording agrees with it (Russian), when known.
            "sex": person.sex.value if person.sex in _PRINTED_SEXES else None,
        },
        "programme": {
            "code": programme.code,
            "title": programme.title,
            "partners": [p.name for p in programme.partners if p.role == PartnerRole.PARTNER],
            "funders": [p.name for p in programme.partners if p.role == PartnerRole.FUNDER],
        },
        "cohort": {
            "name": cohort.name,
            "place": _place(cohort, pdf.languages(language)[0]),
            "start_date": cohort.start_date.isoformat(),
            "end_date": cohort.end_date.isoformat(),
        },
        "hours": _hours_text(summary.hours),
        "modules": [{"code": m.code, "title": m.title} for m in modules],
        "signatories": [dict(s) for s in head["signatories"]],
        "logo": head["logo"],
        # The funders' band: each funder's logo (SHA-256) and whether it is the EU.
        "funding": [dict(f) for f in head.get("funding") or []],
        "issuer": dict(head["issuer"]),
        "serial": serial,
        "issued_on": issued_on.isoformat() if issued_on else "",
    }


_PRINTED_SEXES = (Sex.FEMALE, Sex.MALE)


# --- Issuing ------------------------------------------------------------------------------

_NOT_ISSUABLE = {
    "applied": lambda: _("An applicant who is not enrolled cannot get a certificate."),
    "waitlisted": lambda: _("A waitlisted person cannot get a certificate."),
    "withdrawn": lambda: _("A withdrawn participant cannot get a certificate."),
}


def _check_issuable(enrolment: Enrolment) -> None:
    if enrolment.status not in ACTIVE_ENROLMENT:
        message = _NOT_ISSUABLE.get(enrolment.status.value)
        raise DomainError(
            message() if message else _("This enrolment cannot get a certificate."), "status"
        )


def _valid_certificates(enrolment_ids: list[int]) -> dict[int, Certificate]:
    """{enrolment id: its valid certificate} (one query)."""
    if not enrolment_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Certificate)
        .where(
            Certificate.enrolment_id.in_(enrolment_ids),
            Certificate.status == CertificateStatus.VALID,
        )
        .order_by(Certificate.id)
    )
    return {c.enrolment_id: c for c in rows}


def _revoked_enrolment_ids(enrolment_ids: list[int]) -> set[int]:
    """Enrolments with a revoked certificate (one query)."""
    if not enrolment_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Certificate.enrolment_id).where(
                Certificate.enrolment_id.in_(enrolment_ids),
                Certificate.status == CertificateStatus.REVOKED,
            )
        )
    )


def _lock_enrolments(where: Any) -> list[Enrolment]:
    """Enrolments locked until the transaction ends, so two issuers of the same person wait
    for each other instead of both issuing."""
    return list(
        db.session.scalars(
            sa.select(Enrolment)
            .where(where)
            .order_by(Enrolment.id)
            .with_for_update(of=Enrolment)
            .options(selectinload(Enrolment.person))
            .execution_options(populate_existing=True)
        )
    )


def _issued_on(cohort: Cohort) -> date:
    """Today in the cohort's time zone (the date printed and the serial's year)."""
    return utcnow().astimezone(cohort.tz).date()


def before_end(cohort: Cohort) -> str | None:
    """When the cohort has not ended yet (today in its time zone is before its end date),
    what issuing now means, in words with the dates; None once it has ended."""
    today = _issued_on(cohort)
    if today >= cohort.end_date:
        return None
    return _(
        "%(cohort)s runs from %(start)s to %(end)s and today is %(today)s: a certificate "
        "issued now says its holder completed a cohort that has not ended yet.",
        cohort=cohort.name,
        start=format_date(cohort.start_date, "long"),
        end=format_date(cohort.end_date, "long"),
        today=format_date(today, "long"),
    )


def _check_ended(cohort: Cohort, confirmed: bool) -> None:
    """Refuse to issue before the cohort's end unless the issuer confirmed it, knowing the
    dates (nothing written)."""
    message = before_end(cohort)
    if message and not confirmed:
        raise DomainError(
            _("%(message)s Confirm that you issue before the end.", message=message),
            "confirm_before_end",
        )


def _allocate_serials(programme: Programme, year: int, count: int) -> list[str]:
    """``count`` consecutive serials; the counter row stays locked until the transaction ends."""
    if count <= 0:
        return []
    first = codes.next_serial_number(programme.id, year)
    if count > 1:
        counter = db.session.get(CertificateSerialCounter, (programme.id, year))
        assert counter is not None  # locked and loaded by next_serial_number
        counter.last_number += count - 1
    return [codes.format_serial(programme.code, year, first + i) for i in range(count)]


def _new_certificates(
    actor: Any,
    items: list[tuple[Enrolment, Summary, set[int], str | None]],
    cohort: Cohort,
    *,
    printable_checked: bool = False,
) -> list[Certificate]:
    """Certificates for ``items`` (enrolment, summary, attended module ids, override reason),
    added and flushed, each with its ``certificate.issue`` audit event (``printable_checked``:
    the caller already left out the names no font can print)."""
    if not items:
        return []
    programme = cohort.programme
    if not printable_checked:
        use_fallback_font()
        _check_printable([enrolment.person for enrolment, *_rest in items], actor)
    issued_on = _issued_on(cohort)
    serials = _allocate_serials(programme, issued_on.year, len(items))
    head = letterhead(programme)
    now = utcnow()
    rows = [
        {
            "serial": serial,
            "verification_code": codes.new_verification_code(),
            "enrolment_id": enrolment.id,
            "cohort_id": cohort.id,
            "person_id": enrolment.person_id,
            "snapshot": build_snapshot(
                enrolment,
                head=head,
                summary=summary,
                attended_module_ids=module_ids,
                serial=serial,
                issued_on=issued_on,
            ),
            "status": CertificateStatus.VALID,
            "issued_at": now,
            "issued_by_id": getattr(actor, "id", None),
            "override_reason": reason,
        }
        for (enrolment, summary, module_ids, reason), serial in zip(items, serials, strict=True)
    ]
    _freeze(rows)
    # One INSERT for the batch (the ORM would insert row by row on SQLite), then the rows
    # read back as objects (without their PDF bytes, which stay deferred).
    db.session.execute(sa.insert(Certificate), rows)
    by_serial = {
        c.serial: c
        for c in db.session.scalars(sa.select(Certificate).where(Certificate.serial.in_(serials)))
    }
    certificates = [by_serial[serial] for serial in serials]
    audit.record_many(
        [
            {
                "action": "certificate.issue",
                "actor": actor,
                "obj": certificate,
                "programme_id": programme.id,
                "changes": {
                    "serial": certificate.serial,
                    "enrolment_id": enrolment.id,
                    **({"override_reason": reason} if reason else {}),
                },
                "summary": f"{certificate.serial} {enrolment.person.full_name}",
            }
            for certificate, (enrolment, _s, _m, reason) in zip(certificates, items, strict=True)
        ]
    )
    _mark_completed(actor, [enrolment for enrolment, *_rest in items], certificates, programme)
    db.session.flush()
    # Queued in this transaction: sent by the worker after the commit, never holding it up
    # (a cohort's messages are also written by the worker).
    if len(certificates) == 1:
        notify.certificates_issued(certificates, cohort)
    else:
        notify.defer_certificates_issued(certificates, cohort)
    return certificates


def use_fallback_font() -> None:
    """Make the renderer use the organisation's uploaded fallback font (or none), as the
    settings say now: one small query, plus one to load the font the first time this
    process sees it."""
    settings = db.session.execute(
        sa.select(OrganisationSettings.fallback_font_sha256).where(OrganisationSettings.id == 1)
    ).scalar()
    if settings == pdf.fallback_font():
        return
    data = None
    if settings:
        data = db.session.execute(
            sa.select(OrganisationSettings.fallback_font).where(OrganisationSettings.id == 1)
        ).scalar()
    pdf.set_fallback_font(settings if data else None, bytes(data) if data else None)


def unprintable_letters(person: Any) -> list[str]:
    """The letters of the person's names (as printed) that no certificate font has, each
    once; [] when a certificate can print them."""
    missing = [
        char
        for name in (person.full_name, person.name_latin or "")
        for char in pdf.missing_glyphs(name)
    ]
    return list(dict.fromkeys(missing))


def font_advice(actor: Any) -> str:
    """What to do about letters no certificate font has, for this user: administrators
    upload a font, others ask one to."""
    if actor is not None and getattr(actor, "has_role", None) and actor.has_role(Role.ADMIN):
        return _(
            "Correct the name in the person's record, or upload a font that has these letters "
            "in Organisation settings, under “Certificate font”."
        )
    return _(
        "Correct the name in the person's record, or ask an administrator to upload a font "
        "that has these letters (Organisation settings, “Certificate font”)."
    )


def _check_printable(people: list[Any], actor: Any = None) -> None:
    """Refuse (nothing written) names with letters no certificate font has: a certificate
    never shows a name with boxes instead of letters."""
    for person in people:
        missing = unprintable_letters(person)
        if missing:
            raise DomainError(
                _(
                    "The name “%(name)s” has letters the certificate fonts cannot print "
                    "(%(letters)s). %(advice)s",
                    name=person.full_name,
                    letters=" ".join(missing),
                    advice=font_advice(actor),
                ),
                "name",
            )


def _mark_completed(
    actor: Any, enrolments: list[Enrolment], certificates: list[Certificate], programme: Programme
) -> None:
    """Someone who gets a certificate has completed the cohort: an ``enrolled`` or
    ``not_completed`` enrolment becomes ``completed``, audited as any status change (the
    enrolment's history shows it, with the certificate's serial). A valid certificate next to
    "not completed" would contradict itself; issuing one is the later, deliberate act."""
    events = []
    for enrolment, certificate in zip(enrolments, certificates, strict=True):
        old = enrolment.status
        if old not in (EnrolmentStatus.ENROLLED, EnrolmentStatus.NOT_COMPLETED):
            continue
        enrolment.status = EnrolmentStatus.COMPLETED
        events.append(
            {
                "action": STATUS_ACTION,
                "actor": actor,
                "obj": enrolment,
                "programme_id": programme.id,
                "changes": {"status": [old.value, "completed"], "certificate": certificate.serial},
                "summary": f"{enrolment.person.full_name}: {old.value} -> completed",
            }
        )
    audit.record_many(events)


def _module_ids(programme: Programme) -> list[int]:
    return [m.id for m in programme.modules]


def issue(
    actor: Any,
    enrolment: Enrolment,
    *,
    override_reason: str | None = None,
    confirm_before_end: bool = False,
) -> Certificate:
    """The enrolment's certificate: the valid one if it has one, else a new one.

    Someone the completion rule does not find eligible needs a written ``override_reason``
    (kept on the certificate and in the audit event). Before the cohort's end date a new
    certificate needs ``confirm_before_end``. Does not commit.
    """
    _lock_enrolments(Enrolment.id == enrolment.id)  # and reads its status again
    _check_issuable(enrolment)
    existing = _valid_certificates([enrolment.id]).get(enrolment.id)
    if existing is not None:
        return existing
    cohort = enrolment.cohort
    result = eligibility(cohort.id, [enrolment.id])[enrolment.id]
    reason = (override_reason or "").strip() or None
    if not result.eligible and reason is None:
        raise DomainError(
            _(
                "Not eligible (%(reasons)s): write why the certificate is issued anyway.",
                reasons="; ".join(result.reasons),
            ),
            "override_reason",
        )
    if result.eligible:
        reason = None
    _check_ended(cohort, confirm_before_end)
    attended = attended_modules(cohort.id, [enrolment.id], _module_ids(cohort.programme))
    return _new_certificates(
        actor, [(enrolment, result.summary, attended[enrolment.id], reason)], cohort
    )[0]


def issue_all_eligible(
    actor: Any, cohort: Cohort, *, confirm_before_end: bool = False
) -> IssueResult:
    """Certificates for every eligible active enrolment of ``cohort`` that has none yet
    (before the cohort's end date, only with ``confirm_before_end``).

    Enrolments whose certificate was revoked are left out (``IssueResult.revoked``): a
    revocation is not undone by a bulk action. So are names a certificate cannot print
    (``IssueResult.unprintable``); everyone else is issued.

    A bounded number of queries whatever the cohort size, apart from the inserts.
    """
    enrolments = _lock_enrolments(
        sa.and_(Enrolment.cohort_id == cohort.id, Enrolment.status.in_(ACTIVE_ENROLMENT))
    )
    programme = db.session.scalars(
        sa.select(Programme)
        .where(Programme.id == cohort.programme_id)
        .options(selectinload(Programme.partners), selectinload(Programme.modules))
    ).one()
    ids = [e.id for e in enrolments]
    existing = _valid_certificates(ids)
    revoked = _revoked_enrolment_ids([i for i in ids if i not in existing])
    results = eligibility(cohort.id) if ids else {}  # the active ones: those locked
    candidates = [
        e
        for e in enrolments
        if e.id not in existing and e.id not in revoked and results[e.id].eligible
    ]
    use_fallback_font()
    missing = {e.id: unprintable_letters(e.person) for e in candidates}
    to_issue = [e for e in candidates if not missing[e.id]]
    if to_issue:
        _check_ended(cohort, confirm_before_end)
    attended = attended_modules(cohort.id, [e.id for e in to_issue], _module_ids(programme))
    outcome = IssueResult(
        already=[existing[e.id] for e in enrolments if e.id in existing],
        not_eligible=[
            (e, results[e.id])
            for e in enrolments
            if e.id not in existing and not results[e.id].eligible
        ],
        revoked=[e for e in enrolments if e.id in revoked and results[e.id].eligible],
        unprintable=[(e, missing[e.id]) for e in candidates if missing[e.id]],
    )
    outcome.issued = _new_certificates(
        actor,
        [(e, results[e.id].summary, attended[e.id], None) for e in to_issue],
        cohort,
        printable_checked=True,
    )
    return outcome


# --- Revoking and reissuing ---------------------------------------------------------------


def _required_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise DomainError(_("Write the reason."), "reason")
    return text


def _check_valid(certificate: Certificate) -> None:
    if certificate.status != CertificateStatus.VALID:
        raise DomainError(_("Only a valid certificate can be changed."), "status")


def revoke(
    actor: Any, certificate: Certificate, reason: str, *, public_note: str | None = None
) -> Certificate:
    """Mark a valid certificate revoked (it stays, and verification says so). Audited.

    ``reason`` is internal (coordinators, audit trail); ``public_note``, optional, is what the
    public verification page shows under "revoked"."""
    text = _required_reason(reason)
    note = (public_note or "").strip() or None
    _check_valid(certificate)
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = getattr(actor, "id", None)
    certificate.revoke_reason = text
    certificate.revoke_public_note = note
    audit.record(
        "certificate.revoke",
        actor=actor,
        obj=certificate,
        programme_id=certificate.enrolment.cohort.programme_id,
        changes={"status": ["valid", "revoked"], "reason": text, "public_note": note},
        summary=certificate.serial,
    )
    db.session.flush()
    return certificate


def reissue(actor: Any, certificate: Certificate, *, reason: str) -> Certificate:
    """A new certificate (new serial, new code, fresh snapshot, for example after a name was
    corrected) replacing a valid one, which becomes superseded. Audited."""
    text = _required_reason(reason)
    _check_valid(certificate)
    enrolment = certificate.enrolment
    _lock_enrolments(Enrolment.id == enrolment.id)
    cohort = enrolment.cohort
    summary = eligibility(cohort.id, [enrolment.id])[enrolment.id].summary
    attended = attended_modules(cohort.id, [enrolment.id], _module_ids(cohort.programme))
    new = _new_certificates(
        actor,
        [(enrolment, summary, attended[enrolment.id], certificate.override_reason)],
        cohort,
    )[0]
    certificate.status = CertificateStatus.SUPERSEDED
    certificate.superseded_by_id = new.id
    audit.record(
        "certificate.reissue",
        actor=actor,
        obj=certificate,
        programme_id=cohort.programme_id,
        changes={
            "status": ["valid", "superseded"],
            "superseded_by": new.serial,
            "reason": text,
        },
        summary=f"{certificate.serial} -> {new.serial}",
    )
    db.session.flush()
    return new


# --- Verification and PDF -----------------------------------------------------------------


def find_by_code(text: str) -> Certificate | None:
    """The certificate of a typed verification code (any status), or None."""
    code = codes.normalise_code(text)
    if code is None:
        return None
    return db.session.scalars(
        sa.select(Certificate).where(Certificate.verification_code == code)
    ).first()


def _freeze(rows: Sequence[dict[str, Any]]) -> None:
    """Render each new certificate (a row about to be inserted) once, with the current
    layout and ``BASE_URL``, and keep the bytes, their SHA-256 and the address printed: from
    now on that is the certificate. At most one query (the images this process has not
    prepared yet)."""
    keys = {key for row in rows for key in pdf.image_keys(row["snapshot"] or {})}
    images = load_assets(sorted(key for key in keys if not pdf.has_image(key)))
    for row in rows:
        url = urls.verification_url(row["verification_code"])
        data = pdf.render_certificate(row["snapshot"] or {}, url, images)
        row["layout"] = pdf.LAYOUT
        row["pdf_url"] = url
        row["pdf"] = data
        row["pdf_sha256"] = hashlib.sha256(data).hexdigest()


def verification_url(certificate: Certificate) -> str:
    """The verification address printed on the certificate (as issued)."""
    return certificate.pdf_url or urls.verification_url(certificate.verification_code)


def render_pdf(certificate: Certificate) -> bytes:
    """The certificate's PDF: the bytes stored when it was issued.

    Only a row made outside ``issue`` (an e-mail preview) has none; it is rendered from its
    snapshot with the current layout."""
    if certificate.pdf is not None:
        return bytes(certificate.pdf)
    return render_snapshot(certificate)


def render_snapshot(certificate: Certificate) -> bytes:
    """The certificate drawn afresh from its snapshot by the current layout (what it would
    look like if issued now; never served for an issued certificate). At most one query,
    for the images this process has not prepared yet."""
    snapshot = certificate.snapshot or {}
    use_fallback_font()
    missing = [key for key in pdf.image_keys(snapshot) if not pdf.has_image(key)]
    images = load_assets(missing)
    return pdf.render_certificate(snapshot, verification_url(certificate), images)


def pdf_sha256(certificate: Certificate) -> str:
    """The SHA-256 of the certificate's PDF, as stored when it was issued."""
    return certificate.pdf_sha256 or hashlib.sha256(render_pdf(certificate)).hexdigest()
