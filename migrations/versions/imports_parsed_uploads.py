"""pending uploads keep the table read from the file, their state and progress

A file is parsed once (by the worker when large) and the preview and the confirmation reuse
the table; a confirmed upload is kept (without its bytes) until it expires, so that Back and
reload find it.

Revision ID: imports_parsed_uploads
Revises: signing_keys
Create Date: 2026-12-06 07:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "imports_parsed_uploads"
down_revision = "signing_keys"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("pending_uploads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), server_default="ready", nullable=False)
        )
        batch_op.add_column(sa.Column("parsed", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("sheet", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("cleaned", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("cleaned_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("choices", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("progress", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("total", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("message", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("pending_uploads", schema=None) as batch_op:
        batch_op.drop_column("message")
        batch_op.drop_column("total")
        batch_op.drop_column("progress")
        batch_op.drop_column("choices")
        batch_op.drop_column("cleaned_key")
        batch_op.drop_column("cleaned")
        batch_op.drop_column("sheet")
        batch_op.drop_column("parsed")
        batch_op.drop_column("state")
