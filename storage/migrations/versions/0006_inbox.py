"""inbox: an update is acknowledged to Telegram only once it is stored, and handled from here

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 19:10:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox_update',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('lane', sa.BigInteger(), nullable=False),
    sa.Column('kid', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('body_enc', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('taken_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('taken_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('handled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('update_id')
    )
    op.create_index('ix_inbox_update_lane', 'inbox_update', ['lane', 'update_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_inbox_update_lane', table_name='inbox_update')
    op.drop_table('inbox_update')
