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

This module is the domain's front door (``from trainingmgr.certificates import services``);
the code lives by concern in ``snapshot`` (what is printed, the letterhead, images kept),
``issuing`` (``issue``, ``issue_all_eligible``), ``revocation`` (``revoke``, ``reissue``) and
``documents`` (a certificate's stored PDF and its lookup by code). The pages' queries are in
``queries``.
"""

from __future__ import annotations

from trainingmgr.certificates.documents import (
    find_by_code,
    pdf_sha256,
    render_pdf,
    render_snapshot,
    verification_url,
)
from trainingmgr.certificates.issuing import (
    IssueResult,
    before_end,
    font_advice,
    issue,
    issue_all_eligible,
    unprintable_letters,
    use_fallback_font,
)
from trainingmgr.certificates.revocation import reissue, revoke
from trainingmgr.certificates.snapshot import (
    build_snapshot,
    letterhead,
    load_assets,
    store_assets,
)

__all__ = [
    "IssueResult",
    "before_end",
    "build_snapshot",
    "find_by_code",
    "font_advice",
    "issue",
    "issue_all_eligible",
    "letterhead",
    "load_assets",
    "pdf_sha256",
    "reissue",
    "render_pdf",
    "render_snapshot",
    "revoke",
    "store_assets",
    "unprintable_letters",
    "use_fallback_font",
    "verification_url",
]
