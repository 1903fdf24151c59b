"""The organisation's settings (one row) and certificate signatories.

A signatory with no programme is one of the organisation's defaults; a programme's own
signatories, when it has any, replace the defaults on its certificates.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainingmgr.core.types import UTCDateTime, str_enum, utcnow
from trainingmgr.extensions import db
from trainingmgr.programmes.models import CertificateLanguage

if TYPE_CHECKING:
    from trainingmgr.programmes.models import Programme


SETTINGS_ID = 1  # the one row of organisation_settings


class OrganisationSettings(db.Model):
    """Exactly one row (id 1), created with the configuration's defaults when first read."""

    __tablename__ = "organisation_settings"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=1)
    name: Mapped[str] = mapped_column(sa.String(250))
    logo: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    logo_mimetype: Mapped[str | None] = mapped_column(sa.String(30))
    default_certificate_language: Mapped[CertificateLanguage] = mapped_column(
        str_enum(CertificateLanguage, "certificate_language"), default=CertificateLanguage.EN
    )
    default_timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    # Two-factor sign-in required for administrators (None: the default, required in
    # production) and for coordinators.
    two_factor_admins: Mapped[bool | None] = mapped_column()
    two_factor_coordinators: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # A TrueType font uploaded by an administrator, the certificates' last fallback for
    # letters no shipped font has (Chinese, Japanese, Korean: too large to ship).
    fallback_font: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    fallback_font_name: Mapped[str | None] = mapped_column(sa.String(250))
    fallback_font_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Signatory(db.Model):
    __tablename__ = "signatories"

    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL: an organisation default.
    programme_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(200))
    title: Mapped[str] = mapped_column(sa.String(250), default="")
    signature: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)
    signature_mimetype: Mapped[str | None] = mapped_column(sa.String(30))

    programme: Mapped[Programme | None] = relationship()
