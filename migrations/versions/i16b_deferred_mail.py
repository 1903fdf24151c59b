"""outbox: messages written by the worker (no message yet, what to render it from)

An import that enrols thousands of people queues one outbox row per confirmation with the
enrolment to write it about (``render_args``); the worker renders the message just before
sending it, after the import committed.

Revision ID: i16b_deferred_mail
Revises: i17_security
Create Date: 2026-12-06 05:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i16b_deferred_mail"
down_revision = 'i17_security'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("render_args", sa.JSON(), nullable=True))
        batch_op.alter_column("message", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    # Messages the worker has not written yet cannot be kept without their text.
    op.execute("DELETE FROM outbox_messages WHERE message IS NULL")
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.alter_column("message", existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column("render_args")
