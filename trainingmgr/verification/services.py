"""What the public verification page shows about a certificate.

Everything shown comes from the certificate's snapshot (what is printed on it), plus its
status: never from live person records, so no e-mail address or other personal data beyond
the printed certificate is ever shown, and a later change to a person's record does not change
what a verifier sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from trainingmgr.certificates import codes
from trainingmgr.certificates import services as certificates
from trainingmgr.certificates.models import Certificate, CertificateStatus
from trainingmgr.cohorts.models import Cohort
from trainingmgr.extensions import db


@dataclass(frozen=True)
class Verification:
    """The public facts of one certificate."""

    code: str
    status: str  # "valid", "revoked" or "superseded"
    serial: str
    holder_name: str
    holder_name_latin: str | None
    programme_code: str
    programme_title: str
    cohort_name: str
    place: str
    start_date: date | None
    end_date: date | None
    hours: str
    modules: list[dict[str, str]]
    issuer: str
    issued_on: date | None
    revoked_at: datetime | None
    public_note: str | None  # the coordinator's public note on a revocation (never its reason)
    superseded_by_code: str | None
    superseded_by_url: str | None
    timezone: str  # the cohort's, to show the revocation date
    pdf_sha256: str
    url: str


def canonical_code(typed: str) -> str | None:
    """The stored form of a typed or linked code (``None`` when it cannot be a code)."""
    return codes.normalise_code(typed)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _text(value: Any) -> str:
    return str(value).strip() if value is not None else ""


def verification(certificate: Certificate) -> Verification:
    """The public facts of ``certificate``, read from its snapshot and status."""
    snap: dict[str, Any] = certificate.snapshot or {}
    holder = snap.get("holder") or {}
    programme = snap.get("programme") or {}
    cohort = snap.get("cohort") or {}
    issuer = snap.get("issuer") or {}
    successor = certificate.superseded_by
    cohort_row = db.session.get(Cohort, certificate.cohort_id)
    return Verification(
        code=certificate.verification_code,
        status=CertificateStatus(certificate.status).value,
        serial=_text(snap.get("serial")) or certificate.serial,
        holder_name=_text(holder.get("name")),
        holder_name_latin=_text(holder.get("name_latin")) or None,
        programme_code=_text(programme.get("code")),
        programme_title=_text(programme.get("title")),
        cohort_name=_text(cohort.get("name")),
        place=_text(cohort.get("place")),
        start_date=_date(cohort.get("start_date")),
        end_date=_date(cohort.get("end_date")),
        hours=_text(snap.get("hours")),
        modules=[
            {"code": _text(m.get("code")), "title": _text(m.get("title"))}
            for m in snap.get("modules") or []
            if isinstance(m, dict)
        ],
        issuer=_text(issuer.get("name") if isinstance(issuer, dict) else issuer),
        issued_on=_date(snap.get("issued_on")) or certificate.issued_at.date(),
        revoked_at=certificate.revoked_at,
        public_note=certificate.revoke_public_note,
        superseded_by_code=successor.verification_code if successor is not None else None,
        superseded_by_url=certificates.verification_url(successor) if successor else None,
        timezone=cohort_row.timezone if cohort_row is not None else "UTC",
        pdf_sha256=certificates.pdf_sha256(certificate),
        url=certificates.verification_url(certificate),
    )


def lookup(code: str) -> Verification | None:
    """The public facts of the certificate with this code (any status), or ``None``."""
    certificate = certificates.find_by_code(code)
    return verification(certificate) if certificate is not None else None


def as_json(item: Verification) -> dict[str, Any]:
    """The JSON answer of ``/verify/<code>.json`` (dates in ISO 8601, times in UTC)."""
    return {
        "status": item.status,
        "code": item.code,
        "serial": item.serial,
        "holder": {"name": item.holder_name, "name_latin": item.holder_name_latin},
        "programme": {"code": item.programme_code, "title": item.programme_title},
        "cohort": {
            "name": item.cohort_name,
            "place": item.place,
            "start_date": item.start_date.isoformat() if item.start_date else None,
            "end_date": item.end_date.isoformat() if item.end_date else None,
        },
        "hours": item.hours,
        "modules": item.modules,
        "issuer": item.issuer,
        "issued_on": item.issued_on.isoformat() if item.issued_on else None,
        "revoked": (
            {
                "at": item.revoked_at.isoformat() if item.revoked_at else None,
                "note": item.public_note,
            }
            if item.status == CertificateStatus.REVOKED.value
            else None
        ),
        "superseded_by": (
            {"code": item.superseded_by_code, "url": item.superseded_by_url}
            if item.superseded_by_code
            else None
        ),
        "pdf_sha256": item.pdf_sha256,
        "url": item.url,
    }
