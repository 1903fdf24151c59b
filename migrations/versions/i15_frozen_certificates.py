"""certificates: stored PDF bytes, SHA-256, verification address, layout; public revocation note

Every certificate issued before this revision gets the PDF its holder could download until
now, rendered once more by the frozen layout 1 (``trainingmgr.certificates.pdf_v1``) with the
verification address of the configured ``BASE_URL``, so the fingerprints already shown stay
true.

Revision ID: i15_frozen_certificates
Revises: i13_pending_uploads
Create Date: 2026-12-01 10:00:00

"""

import hashlib
import os

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i15_frozen_certificates"
down_revision = "i13_pending_uploads"
branch_labels = None
depends_on = None


def _base_url() -> str:
    try:
        from flask import current_app

        return str(current_app.config["BASE_URL"]).rstrip("/")
    except RuntimeError:  # alembic run without the application
        return os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")


def _store_existing_pdfs() -> None:
    from trainingmgr.certificates import pdf_v1

    bind = op.get_bind()
    certificates = sa.table(
        "certificates",
        sa.column("id", sa.Integer),
        sa.column("verification_code", sa.String),
        sa.column("snapshot", sa.JSON),
        sa.column("layout", sa.SmallInteger),
        sa.column("pdf_sha256", sa.String),
        sa.column("pdf_url", sa.String),
        sa.column("pdf", sa.LargeBinary),
    )
    assets = sa.table(
        "certificate_assets", sa.column("sha256", sa.String), sa.column("data", sa.LargeBinary)
    )
    base = _base_url()
    rows = bind.execute(
        sa.select(certificates.c.id, certificates.c.verification_code, certificates.c.snapshot)
        .where(certificates.c.pdf.is_(None))
        .order_by(certificates.c.id)
    ).all()
    for cert_id, code, snapshot in rows:
        snapshot = snapshot or {}
        keys = pdf_v1.image_keys(snapshot)
        images = {}
        if keys:
            images = {
                sha: bytes(data)
                for sha, data in bind.execute(
                    sa.select(assets.c.sha256, assets.c.data).where(assets.c.sha256.in_(keys))
                )
            }
        url = f"{base}/verify/{code}"
        data = pdf_v1.render_certificate(snapshot, url, images)
        bind.execute(
            certificates.update()
            .where(certificates.c.id == cert_id)
            .values(
                layout=1, pdf=data, pdf_sha256=hashlib.sha256(data).hexdigest(), pdf_url=url
            )
        )


def upgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoke_public_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("layout", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("pdf_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pdf_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("pdf", sa.LargeBinary(), nullable=True))
    _store_existing_pdfs()


def downgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_column("pdf")
        batch_op.drop_column("pdf_url")
        batch_op.drop_column("pdf_sha256")
        batch_op.drop_column("layout")
        batch_op.drop_column("revoke_public_note")
