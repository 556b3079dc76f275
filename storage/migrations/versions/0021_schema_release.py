"""which releases may run on the schema: a rolling upgrade runs the previous release beside the
new one while the migrations that allow it (expand) are applied

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 09:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None
# Only adds a table the previous release never reads: it runs on this schema unchanged (see
# storage/db.py: SCHEMA_RELEASE).
oldest_release_served = '0020'


def upgrade() -> None:
    op.create_table('schema_release', sa.Column('head', sa.String(length=32), nullable=False),
                    sa.PrimaryKeyConstraint('head'))


def downgrade() -> None:
    op.drop_table('schema_release')
