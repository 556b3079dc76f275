"""seen updates: a repeated delivery of an update has no second effect

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 17:40:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seen_update',
    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('update_id')
    )
    with op.batch_alter_table('seen_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_update_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('seen_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_update_seen_at'))
    op.drop_table('seen_update')
