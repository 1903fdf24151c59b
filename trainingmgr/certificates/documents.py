"""Issued certificates as documents: found by their verification code, their stored PDF
(and its SHA-256), the address printed, and the PDF a snapshot would give with the current
layout."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from trainingmgr.certificates import codes, pdf
from trainingmgr.certificates.issuing import use_fallback_font
from trainingmgr.certificates.models import (
    Certificate,
)
from trainingmgr.certificates.snapshot import load_assets
from trainingmgr.core import urls
from trainingmgr.extensions import db

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
