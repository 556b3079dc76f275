"""person fold: a second blind index on the transliteration-folded name, and the revision of
the name rules both indexes were computed with

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 02:00:00

A migration holds no keys: `casebot migrate` (and the first planning round of a bot started
without it) computes both indexes again from the encrypted intake (storage/cases.py: reindex).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_fold', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('index_rev', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_client_case_person_fold'), ['person_fold'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_case_person_fold'))
        batch_op.drop_column('index_rev')
        batch_op.drop_column('person_fold')
