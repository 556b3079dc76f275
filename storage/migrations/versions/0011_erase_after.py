"""erase after: a case whose documentation consent was withdrawn, kept for a legal period

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 00:40:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erase_after', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.drop_column('erase_after')
