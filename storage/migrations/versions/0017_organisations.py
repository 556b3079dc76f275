"""organisations: each its own key (wrapping its case keys), switched off and erased as a whole,
and the languages its admins upload and switch off are its own

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 07:00:00

A migration holds no keys: `casebot migrate` gives each organisation its key and moves the case
keys wrapped by the master key under it (storage/organisations.py: rehome). Until then both
kinds of case key are read. Uploaded catalogs and language switches of an installation with one
organisation become that organisation's.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_kid', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('key_wrapped', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('disabled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('erased_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('locale_catalog', schema=None) as batch_op:
        batch_op.add_column(sa.Column('org_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_locale_catalog_org_id'), ['org_id'], unique=False)
        batch_op.create_foreign_key('fk_locale_catalog_org_id', 'organisation', ['org_id'], ['id'])
    op.execute("UPDATE locale_catalog SET org_id = (SELECT min(id) FROM organisation)")
    # the switches become per organisation: every organisation keeps what was set
    op.create_table('locale_setting_by_org',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('org_id', 'language')
    )
    op.execute("INSERT INTO locale_setting_by_org (org_id, language, enabled) "
               "SELECT organisation.id, locale_setting.language, locale_setting.enabled FROM organisation, locale_setting")
    op.drop_table('locale_setting')
    op.rename_table('locale_setting_by_org', 'locale_setting')


def downgrade() -> None:
    op.create_table('locale_setting_global',
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('language')
    )
    op.execute("INSERT INTO locale_setting_global (language, enabled) SELECT language, min(enabled) "
               "FROM locale_setting GROUP BY language")
    op.drop_table('locale_setting')
    op.rename_table('locale_setting_global', 'locale_setting')
    with op.batch_alter_table('locale_catalog', schema=None) as batch_op:
        batch_op.drop_constraint('fk_locale_catalog_org_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_locale_catalog_org_id'))
        batch_op.drop_column('org_id')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('key_wrapped')
        batch_op.drop_column('key_kid')
