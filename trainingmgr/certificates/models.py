"""Issued certificates are immutable records of what was certified."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainingmgr.core.types import Choice, UTCDateTime, str_enum, utcnow
from trainingmgr.extensions import db

if TYPE_CHECKING:
    from trainingmgr.accounts.models import User
    from trainingmgr.cohorts.models import Enrolment


class CertificateStatus(Choice):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = (
        sa.CheckConstraint(
            "(status = 'revoked') = (revoked_at IS NOT NULL)", name="revoked_has_date"
        ),
        sa.CheckConstraint(
            "status <> 'superseded' OR superseded_by_id IS NOT NULL",
            name="superseded_has_successor",
        ),
        sa.Index("ix_certificates_enrolment_id", "enrolment_id"),
        sa.Index("ix_certificates_cohort_id", "cohort_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(sa.String(40), unique=True)
    verification_code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id", ondelete="RESTRICT"))
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="RESTRICT"))
    person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("people.id", ondelete="RESTRICT"), index=True
    )
    # Everything printed: names as printed, programme, cohort, place, dates, hours, modules,
    # language, signatories. The PDF is rendered from this and nothing else.
    snapshot: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[CertificateStatus] = mapped_column(
        str_enum(CertificateStatus, "certificate_status"), default=CertificateStatus.VALID
    )
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # Written reason when issued to someone the completion rule did not find eligible.
    override_reason: Mapped[str | None] = mapped_column(sa.Text)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT")
    )
    # Internal (coordinators, audit trail); never shown on the public verification page.
    revoke_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Shown publicly under "revoked", written by the coordinator knowing it is public.
    revoke_public_note: Mapped[str | None] = mapped_column(sa.Text)
    superseded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="RESTRICT")
    )
    # The document as issued, frozen: its bytes, their SHA-256, the verification address
    # printed (and QR-encoded) on it and the layout version that drew it. Downloads, ZIPs,
    # the print PDF and the verification page use these, never a new rendering, so a new
    # BASE_URL, library or layout never changes an issued certificate. (Empty only for rows
    # made outside ``services.issue``, such as e-mail previews.)
    layout: Mapped[int | None] = mapped_column(sa.SmallInteger)
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    pdf_url: Mapped[str | None] = mapped_column(sa.String(500))
    pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    # The organisation's key that signed the PDF (PAdES) at issue; None: issued unsigned.
    signing_key_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("signing_keys.id", ondelete="RESTRICT"), index=True
    )

    enrolment: Mapped[Enrolment] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])
    superseded_by: Mapped[Certificate | None] = relationship(remote_side=[id])


class CertificateSerialCounter(db.Model):
    """The last serial number used per programme and year; rows are locked while issuing."""

    __tablename__ = "certificate_serial_counters"

    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="RESTRICT"), primary_key=True
    )
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class CertificateAsset(db.Model):
    """An image printed on certificates (a logo, a signature), stored once by its SHA-256.

    The snapshot of an issued certificate names its images by hash, so later changes to a
    programme's logo or a signatory's signature do not change certificates already issued.
    """

    __tablename__ = "certificate_assets"

    sha256: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    mimetype: Mapped[str] = mapped_column(sa.String(30))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# A run with no batch issued for this long is shown as possibly stalled.
STALLED_AFTER = timedelta(minutes=5)


class RunState(enum.StrEnum):
    QUEUED = "queued"  # waiting for the worker
    RUNNING = "running"  # the worker is issuing (``issued`` so far)
    DONE = "done"  # finished: the counts say what happened
    FAILED = "failed"  # stopped: ``message`` says why (what was issued stays issued)


class CertificateRun(db.Model):
    """ "Issue to all eligible" for more people than a request should render and sign
    (``CERTIFICATES_INLINE_MAX``): the worker issues them in batches (``certificates.runs``)
    while the cohort's certificates page shows how many are done."""

    __tablename__ = "certificate_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    confirm_before_end: Mapped[bool] = mapped_column(default=False)
    state: Mapped[RunState] = mapped_column(
        str_enum(RunState, "certificate_run_state"), default=RunState.QUEUED
    )
    total: Mapped[int] = mapped_column(default=0)  # to issue when it was asked for
    issued: Mapped[int] = mapped_column(default=0)
    # What the last batch found (the summary shown when it is done).
    already: Mapped[int] = mapped_column(default=0)
    not_eligible: Mapped[int] = mapped_column(default=0)
    revoked: Mapped[int] = mapped_column(default=0)
    unprintable: Mapped[str | None] = mapped_column(sa.Text)  # the page's message, if any
    message: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When it was queued or its last batch was issued: the page warns when that is long ago.
    progress_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the requester was shown the summary (it is shown once).
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def active(self) -> bool:
        return self.state in (RunState.QUEUED, RunState.RUNNING)

    @property
    def stalled(self) -> bool:
        """Unfinished with no batch for a while: the worker may not be running."""
        return self.active and utcnow() - self.progress_at > STALLED_AFTER

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.issued / self.total)) if self.total else 0
