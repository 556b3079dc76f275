"""cooperation between municipalities: a case handed over to another organisation on the same
installation when the client moves there

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 07:20:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('org_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_org', sa.Integer(), nullable=False),
    sa.Column('to_org', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('consent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('stub_case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['client_case.id'], ),
    sa.ForeignKeyConstraint(['decided_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['from_org'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['stub_case_id'], ['client_case.id'], ),
    sa.ForeignKeyConstraint(['to_org'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('org_transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_transfer_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('org_transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_transfer_case_id'))
    op.drop_table('org_transfer')
