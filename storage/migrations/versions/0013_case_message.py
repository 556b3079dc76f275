"""case message: the bot's recent messages about a case, for deleting them on erasure

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 01:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['client_case.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_case_message_case_id'), 'case_message', ['case_id'], unique=False)
    op.create_index(op.f('ix_case_message_sent_at'), 'case_message', ['sent_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_case_message_sent_at'), table_name='case_message')
    op.drop_index(op.f('ix_case_message_case_id'), table_name='case_message')
    op.drop_table('case_message')
