"""reports: a coarse profile of each case for the report (encrypted with the case key), the
employer (Träger) of each member of staff, and a gap's description for the steering group

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 06:00:00

A migration holds no keys: `casebot migrate` writes the profiles of existing cases from their
encrypted intake and assessments (storage/profiles.py: backfill).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_profile',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('body_enc', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['client_case.id'], ),
    sa.PrimaryKeyConstraint('case_id')
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employer', sqlmodel.sql.sqltypes.AutoString(length=60), server_default='', nullable=False))
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gap_enc', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_column('gap_enc')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('employer')
    op.drop_table('case_profile')
