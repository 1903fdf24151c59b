"""The organisation's signing keys: one current, the older ones kept (rotation).

Each key has two parts: the X.509 certificate and private key that sign PDFs (PAdES), either
generated here (self-signed) or uploaded as a PKCS#12 from a certification authority, and
an Ed25519 key that signs Open Badges credentials (``eddsa-rdfc-2022``), always generated
here. Private keys are stored encrypted (``keys.py``).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from trainingmgr.core.types import Choice, UTCDateTime, str_enum, utcnow
from trainingmgr.extensions import db


class KeySource(Choice):
    GENERATED = "generated"
    UPLOADED = "uploaded"


class SigningKey(db.Model):
    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[KeySource] = mapped_column(str_enum(KeySource, "signing_key_source"))
    # The name in the certificate's subject: "Digitally signed by <subject>".
    subject: Mapped[str] = mapped_column(sa.String(250))
    # PEM: the signing certificate first, then the rest of its chain (from a PKCS#12).
    pdf_certificates: Mapped[str] = mapped_column(sa.Text)
    pdf_certificate_sha256: Mapped[str] = mapped_column(sa.String(64))
    pdf_not_after: Mapped[datetime] = mapped_column(UTCDateTime())
    # PKCS#8 PEM, encrypted with a key derived from SIGNING_KEY_SECRET (else SECRET_KEY).
    pdf_private_key: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    ed25519_private_key: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    ed25519_public: Mapped[str] = mapped_column(sa.String(60), unique=True)  # Multikey
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    # Set when a newer key replaced it; kept so that what it signed still verifies.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_current(self) -> bool:
        return self.retired_at is None
