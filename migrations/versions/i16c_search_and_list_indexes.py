"""indexes for lists at 100,000 people: trigram search (PostgreSQL), scope probe, audit filters

- ``ix_people_search_text_trgm`` (PostgreSQL only, with the ``pg_trgm`` extension): a GIN
  trigram index on the folded search text, so "contains" searches read the index instead of
  every person. SQLite keeps scanning.
- ``ix_enrolments_person_id_cohort_id`` replaces ``ix_enrolments_person_id``: the programme
  scope rule reads a person's cohorts from the index alone.
- ``ix_enrolments_cohort_id_status_person_id``: distinct participants per programme (dashboard,
  programmes list) counted from the index alone.
- The audit trail's filters newest first: ``ix_audit_events_action_at``, and
  ``ix_audit_events_programme_id_at`` and ``ix_audit_events_actor_id_at`` in place of the
  single-column indexes on ``programme_id`` and ``actor_id``.

Revision ID: i16c_search_and_list_indexes
Revises: i15b_funders_fallback_font
Create Date: 2026-12-06 05:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "i16c_search_and_list_indexes"
down_revision = 'i15b_funders_fallback_font'
branch_labels = None
depends_on = None


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if _postgresql():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The extension may live in a schema outside this one's search path (installed once
        # per database): name its operator class with its schema.
        schema = op.get_bind().scalar(
            sa.text(
                "SELECT n.nspname FROM pg_extension e "
                "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
            )
        )
        op.execute(
            "CREATE INDEX ix_people_search_text_trgm ON people "
            f'USING gin (search_text "{schema}".gin_trgm_ops)'
        )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index("ix_enrolments_person_id_cohort_id", ["person_id", "cohort_id"])
        batch_op.drop_index("ix_enrolments_person_id")
        batch_op.create_index(
            "ix_enrolments_cohort_id_status_person_id", ["cohort_id", "status", "person_id"]
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_action_at", ["action", "at"])
        batch_op.create_index("ix_audit_events_programme_id_at", ["programme_id", "at"])
        batch_op.create_index("ix_audit_events_actor_id_at", ["actor_id", "at"])
        batch_op.drop_index("ix_audit_events_programme_id")
        batch_op.drop_index("ix_audit_events_actor_id")


def downgrade():
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_events_actor_id", ["actor_id"])
        batch_op.create_index("ix_audit_events_programme_id", ["programme_id"])
        batch_op.drop_index("ix_audit_events_actor_id_at")
        batch_op.drop_index("ix_audit_events_programme_id_at")
        batch_op.drop_index("ix_audit_events_action_at")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index("ix_enrolments_cohort_id_status_person_id")
        batch_op.create_index("ix_enrolments_person_id", ["person_id"])
        batch_op.drop_index("ix_enrolments_person_id_cohort_id")
    if _postgresql():
        op.drop_index("ix_people_search_text_trgm", table_name="people")
        # The extension stays: other objects may use it, and it costs nothing unused.
