"""Revoking and reissuing: a revoked certificate stays on record (its verification page says
so); a reissue replaces a valid certificate by a new one from a fresh snapshot. Services do
not commit."""

from __future__ import annotations

from flask_babel import gettext as _

from trainingmgr.accounts.models import User
from trainingmgr.attendance.bulk import attended_modules
from trainingmgr.audit import services as audit
from trainingmgr.certificates.eligibility import eligibility
from trainingmgr.certificates.issuing import lock_enrolments, new_certificates, programme_module_ids
from trainingmgr.certificates.models import (
    Certificate,
    CertificateStatus,
)
from trainingmgr.cohorts.models import Enrolment
from trainingmgr.core.errors import DomainError
from trainingmgr.core.types import utcnow
from trainingmgr.extensions import db

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
    certificate: Certificate, reason: str, *, actor: User, public_note: str | None = None
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


def reissue(certificate: Certificate, *, actor: User, reason: str) -> Certificate:
    """A new certificate (new serial, new code, fresh snapshot, for example after a name was
    corrected) replacing a valid one, which becomes superseded. Audited."""
    text = _required_reason(reason)
    _check_valid(certificate)
    enrolment = certificate.enrolment
    lock_enrolments(Enrolment.id == enrolment.id)
    cohort = enrolment.cohort
    summary = eligibility(cohort.id, [enrolment.id])[enrolment.id].summary
    attended = attended_modules(cohort.id, [enrolment.id], programme_module_ids(cohort.programme))
    new = new_certificates(
        [(enrolment, summary, attended[enrolment.id], certificate.override_reason)],
        cohort,
        actor=actor,
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
