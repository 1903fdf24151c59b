"""cohorts.auto_fill_waitlist: free seats go to the waitlist without a click (on by default)

Revision ID: flows_waitlist_auto_fill
Revises: imports_parsed_uploads
Create Date: 2026-12-06 07:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "flows_waitlist_auto_fill"
down_revision = "imports_parsed_uploads"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auto_fill_waitlist", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.drop_column("auto_fill_waitlist")
