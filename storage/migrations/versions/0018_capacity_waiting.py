"""capacity and waiting list: the most open cases a case manager takes, and since when a case
waits for one (everyone who could take it was full)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 07:00:00

Districts' names, quarters, border quarters and neighbours are the organisation's settings and
its district rows as before; nothing to move.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('capacity', sa.Integer(), nullable=True))
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waiting_since', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.drop_column('waiting_since')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('capacity')
