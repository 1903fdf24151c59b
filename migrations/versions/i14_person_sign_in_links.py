"""sign-in links for people without an account yet: user_tokens.person_id

Revision ID: i14_person_links
Revises: i15_frozen_certificates
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i14_person_links'
down_revision = 'i15_frozen_certificates'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_id', sa.Integer(), nullable=True))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_user_tokens_person_id'), ['person_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_user_tokens_person_id_people'),
            'people',
            ['person_id'],
            ['id'],
            ondelete='CASCADE',
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_user_tokens_has_holder'),
            'user_id IS NOT NULL OR person_id IS NOT NULL',
        )


def downgrade():
    op.execute('DELETE FROM user_tokens WHERE user_id IS NULL')
    with op.batch_alter_table('user_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_user_tokens_has_holder'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_user_tokens_person_id_people'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_user_tokens_person_id'))
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('person_id')
