"""Meldebogen: a referrer's request that the case management take a client on, in the
coordinator's inbox

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 07:10:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('sent_by', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('assigned_to', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('body_enc', sa.LargeBinary(), nullable=False),
    sa.Column('reason_enc', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['assigned_to'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['case_id'], ['client_case.id'], ),
    sa.ForeignKeyConstraint(['decided_by'], ['app_user.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['sent_by'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intake_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_request_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_request_sent_by'), ['sent_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('intake_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_request_sent_by'))
        batch_op.drop_index(batch_op.f('ix_intake_request_org_id'))
    op.drop_table('intake_request')
