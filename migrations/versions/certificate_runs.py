"""certificate_runs: "issue to all eligible" for a large cohort, issued by the worker in batches

Revision ID: certificate_runs
Revises: flows_waitlist_auto_fill
Create Date: 2026-12-06 10:45:00

"""

import sqlalchemy as sa
from alembic import op

import trainingmgr.core.types

# revision identifiers, used by Alembic.
revision = "certificate_runs"
down_revision = "flows_waitlist_auto_fill"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "certificate_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("confirm_before_end", sa.Boolean(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "running",
                "done",
                "failed",
                name="certificate_run_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("already", sa.Integer(), nullable=False),
        sa.Column("not_eligible", sa.Integer(), nullable=False),
        sa.Column("revoked", sa.Integer(), nullable=False),
        sa.Column("unprintable", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", trainingmgr.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "progress_at", trainingmgr.core.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("finished_at", trainingmgr.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reported_at", trainingmgr.core.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_certificate_runs_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_certificate_runs_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_runs")),
    )
    with op.batch_alter_table("certificate_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_runs_cohort_id"), ["cohort_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("certificate_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_runs_cohort_id"))

    op.drop_table("certificate_runs")
