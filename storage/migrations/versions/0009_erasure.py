"""erasure: four-eyes erasure requests, erased cases, legal holds

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 00:10:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erasure_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['client_case.id'], ),
    sa.ForeignKeyConstraint(['decided_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['requested_by'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_erasure_request_case_id'), 'erasure_request', ['case_id'], unique=False)
    op.create_index(op.f('ix_erasure_request_org_id'), 'erasure_request', ['org_id'], unique=False)
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('hold_reason_enc', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.drop_column('hold_reason_enc')
        batch_op.drop_column('erased_at')
    op.drop_index(op.f('ix_erasure_request_org_id'), table_name='erasure_request')
    op.drop_index(op.f('ix_erasure_request_case_id'), table_name='erasure_request')
    op.drop_table('erasure_request')
