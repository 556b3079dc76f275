"""languages: uploaded catalogs, settings, revision

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 03:50:50.951816
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('locale_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('locale_setting',
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('language')
    )
    op.create_table('locale_catalog',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('po', sa.Text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('locale_catalog', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_locale_catalog_language'), ['language'], unique=False)

    


def downgrade() -> None:
    
    with op.batch_alter_table('locale_catalog', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_locale_catalog_language'))

    op.drop_table('locale_catalog')
    op.drop_table('locale_setting')
    op.drop_table('locale_revision')
    
