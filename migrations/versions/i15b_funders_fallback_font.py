"""certificates: funders' logos and the EU flag on programme partners; an uploaded fallback font

Revision ID: i15b_funders_fallback_font
Revises: i16b_deferred_mail
Create Date: 2026-12-06 05:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i15b_funders_fallback_font"
down_revision = 'i16b_deferred_mail'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("programme_partners") as batch:
        batch.add_column(sa.Column("logo", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("logo_mimetype", sa.String(length=30), nullable=True))
        batch.add_column(
            sa.Column("european_union", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("organisation_settings") as batch:
        batch.add_column(sa.Column("fallback_font", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("fallback_font_name", sa.String(length=250), nullable=True))
        batch.add_column(sa.Column("fallback_font_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("organisation_settings") as batch:
        batch.drop_column("fallback_font_sha256")
        batch.drop_column("fallback_font_name")
        batch.drop_column("fallback_font")
    with op.batch_alter_table("programme_partners") as batch:
        batch.drop_column("european_union")
        batch.drop_column("logo_mimetype")
        batch.drop_column("logo")
