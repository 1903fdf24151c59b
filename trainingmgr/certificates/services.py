"""Issuing, revoking, reissuing and verifying completion certificates.

A certificate is an immutable record: everything printed is copied into its ``snapshot``
(format in ``docs/certificates.md``) when it is issued, and the PDF is rendered from that
snapshot alone, so it can be rendered again at any time with the same bytes.

- ``issue`` gives at most one valid certificate per enrolment (issuing twice returns the first).
  Someone the completion rule does not find eligible gets one only with a written reason.
- A correction (a misspelt name) is a ``reissue``: a new certificate with a new serial and code
  from a fresh snapshot; the old one is kept, marked superseded.
- ``revoke`` keeps the certificate (the verification page says it was revoked).

Modules printed: those the participant attended (present or late at least once in a session
that was not cancelled), in curriculum order, not the whole curriculum: the certificate states
what the holder did. Hours are the hours attended from ``attendance_summary``.

Services do not commit; the caller does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from babel import Locale
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from trainingmgr.attendance.services import Summary
from trainingmgr.audit import services as audit
from trainingmgr.certificates import codes, pdf
from trainingmgr.certificates.eligibility import Eligibility, _attended_modules, eligibility
from trainingmgr.certificates.models import (
    Certificate,
    CertificateSerialCounter,
    CertificateStatus,
)
from trainingmgr.cohorts.models import ACTIVE_ENROLMENT, Cohort, Enrolment
from trainingmgr.core.errors import DomainError
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db
from trainingmgr.programmes.models import PartnerRole, Programme


@dataclass
class IssueResult:
    """What ``issue_all_eligible`` did, enrolment by enrolment."""

    issued: list[Certificate] = field(default_factory=list)
    already: list[Certificate] = field(default_factory=list)
    # (enrolment, why it is not eligible): issuing those needs a reason, one by one.
    not_eligible: list[tuple[Enrolment, Eligibility]] = field(default_factory=list)


# --- Snapshot -----------------------------------------------------------------------------


def _hours_text(value: Decimal) -> str:
    """Hours as printed, the same in every locale: "24", "12.5"."""
    return format(Decimal(value).normalize(), "f")


def _place(cohort: Cohort, lang: str) -> str:
    country = ""
    if cohort.country:
        country = Locale.parse(lang).territories.get(cohort.country.upper(), cohort.country)
    return ", ".join(p for p in (cohort.venue, cohort.city, country) if p)


def configured_signatories() -> list[dict[str, str]]:
    """Signatories from the ``CERTIFICATE_SIGNATORIES`` setting (a list of {name, title})."""
    return _clean_signatories(current_app.config.get("CERTIFICATE_SIGNATORIES") or [])


def _clean_signatories(items: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {"name": str(s.get("name") or "").strip(), "title": str(s.get("title") or "").strip()}
        for s in items
        if str(s.get("name") or "").strip()
    ]


def build_snapshot(
    enrolment: Enrolment,
    *,
    signatories: Sequence[dict[str, Any]] | None = None,
    summary: Summary | None = None,
    attended_module_ids: set[int] | None = None,
    serial: str = "",
    issued_on: date | None = None,
) -> dict[str, Any]:
    """Everything a certificate prints for ``enrolment`` (the format of ``pdf.py``).

    ``summary`` and ``attended_module_ids`` are computed when not given (``issue_all_eligible``
    passes them, computed once for the whole cohort).
    """
    cohort = enrolment.cohort
    programme = cohort.programme
    person = enrolment.person
    if summary is None:
        summary = eligibility(cohort.id, [enrolment.id])[enrolment.id].summary
    if attended_module_ids is None:
        attended_module_ids = _attended_modules(
            cohort.id, [enrolment.id], [m.id for m in programme.modules]
        )[enrolment.id]
    language = cohort.certificate_language.value
    modules = sorted(
        (m for m in programme.modules if m.id in attended_module_ids),
        key=lambda m: (m.position, m.code),
    )
    return {
        "language": language,
        "holder": {"name": person.full_name, "name_latin": person.name_latin or None},
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
        "signatories": (
            _clean_signatories(signatories) if signatories is not None else configured_signatories()
        ),
        "issuer": {"name": current_app.config.get("ORGANISATION_NAME", "")},
        "serial": serial,
        "issued_on": issued_on.isoformat() if issued_on else "",
    }


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
) -> list[Certificate]:
    """Certificates for ``items`` (enrolment, summary, attended module ids, override reason),
    added and flushed, each with its ``certificate.issue`` audit event."""
    programme = cohort.programme
    issued_on = _issued_on(cohort)
    serials = _allocate_serials(programme, issued_on.year, len(items))
    signatories = configured_signatories()
    certificates = []
    for (enrolment, summary, module_ids, reason), serial in zip(items, serials, strict=True):
        certificates.append(
            Certificate(
                serial=serial,
                verification_code=codes.new_verification_code(),
                enrolment_id=enrolment.id,
                cohort_id=cohort.id,
                person_id=enrolment.person_id,
                snapshot=build_snapshot(
                    enrolment,
                    signatories=signatories,
                    summary=summary,
                    attended_module_ids=module_ids,
                    serial=serial,
                    issued_on=issued_on,
                ),
                status=CertificateStatus.VALID,
                issued_at=utcnow(),
                issued_by_id=getattr(actor, "id", None),
                override_reason=reason,
            )
        )
    db.session.add_all(certificates)
    db.session.flush()
    for certificate, (enrolment, _s, _m, reason) in zip(certificates, items, strict=True):
        changes: dict[str, Any] = {"serial": certificate.serial, "enrolment_id": enrolment.id}
        if reason:
            changes["override_reason"] = reason
        audit.record(
            "certificate.issue",
            actor=actor,
            obj=certificate,
            programme_id=programme.id,
            changes=changes,
            summary=f"{certificate.serial} {enrolment.person.full_name}",
        )
    db.session.flush()
    return certificates


def _module_ids(programme: Programme) -> list[int]:
    return [m.id for m in programme.modules]


def issue(actor: Any, enrolment: Enrolment, *, override_reason: str | None = None) -> Certificate:
    """The enrolment's certificate: the valid one if it has one, else a new one.

    Someone the completion rule does not find eligible needs a written ``override_reason``
    (kept on the certificate and in the audit event). Does not commit.
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
    attended = _attended_modules(cohort.id, [enrolment.id], _module_ids(cohort.programme))
    return _new_certificates(
        actor, [(enrolment, result.summary, attended[enrolment.id], reason)], cohort
    )[0]


def issue_all_eligible(actor: Any, cohort: Cohort) -> IssueResult:
    """Certificates for every eligible active enrolment of ``cohort`` that has none yet.

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
    results = eligibility(cohort.id, ids) if ids else {}
    to_issue = [e for e in enrolments if e.id not in existing and results[e.id].eligible]
    attended = _attended_modules(cohort.id, [e.id for e in to_issue], _module_ids(programme))
    outcome = IssueResult(
        already=[existing[e.id] for e in enrolments if e.id in existing],
        not_eligible=[
            (e, results[e.id])
            for e in enrolments
            if e.id not in existing and not results[e.id].eligible
        ],
    )
    outcome.issued = _new_certificates(
        actor, [(e, results[e.id].summary, attended[e.id], None) for e in to_issue], cohort
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


def revoke(actor: Any, certificate: Certificate, reason: str) -> Certificate:
    """Mark a valid certificate revoked (it stays, and verification says so). Audited."""
    text = _required_reason(reason)
    _check_valid(certificate)
    certificate.status = CertificateStatus.REVOKED
    certificate.revoked_at = utcnow()
    certificate.revoked_by_id = getattr(actor, "id", None)
    certificate.revoke_reason = text
    audit.record(
        "certificate.revoke",
        actor=actor,
        obj=certificate,
        programme_id=certificate.enrolment.cohort.programme_id,
        changes={"status": ["valid", "revoked"], "reason": text},
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
    attended = _attended_modules(cohort.id, [enrolment.id], _module_ids(cohort.programme))
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


def verification_url(certificate: Certificate) -> str:
    return f"{current_app.config['BASE_URL']}/verify/{certificate.verification_code}"


def render_pdf(certificate: Certificate) -> bytes:
    """The certificate's PDF, from its snapshot (the same bytes every time)."""
    logo = certificate.enrolment.cohort.programme.logo
    return pdf.render_certificate(certificate.snapshot, verification_url(certificate), logo)


def pdf_sha256(certificate: Certificate) -> str:
    return hashlib.sha256(render_pdf(certificate)).hexdigest()
