"""time: conferences, jour fixe, agenda, need tally, digests, outbox dedupe

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 03:27:04.821797
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('jour_fixe',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('first_on', sa.Date(), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('interval_days', sa.Integer(), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('org_id')
    )
    op.create_table('need_tally',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.PrimaryKeyConstraint('org_id', 'domain', 'level')
    )
    op.create_table('agenda_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('meeting_on', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_item_meeting_on'), ['meeting_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_agenda_item_org_id'), ['org_id'], unique=False)

    op.create_table('conference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('place_enc', sa.LargeBinary(), nullable=False),
    sa.Column('agenda_enc', sa.LargeBinary(), nullable=False),
    sa.Column('external_services', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('outcome_enc', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['client_case.id'], ),
    sa.ForeignKeyConstraint(['org_id'], ['organisation.id'], ),
    sa.ForeignKeyConstraint(['organiser_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conference_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conference_starts_at'), ['starts_at'], unique=False)

    op.create_table('conference_participant',
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['conference_id'], ['conference.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('conference_id', 'user_id')
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=128), server_default='', nullable=False))
        batch_op.add_column(sa.Column('digest_frequency', sqlmodel.sql.sqltypes.AutoString(length=10), server_default='weekly', nullable=False))
        batch_op.add_column(sa.Column('digest_hour', sa.Integer(), server_default='8', nullable=False))

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True))
        batch_op.create_unique_constraint('uq_outbox_dedupe_key', ['dedupe_key'])

    


def downgrade() -> None:
    
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint('uq_outbox_dedupe_key', type_='unique')
        batch_op.drop_column('dedupe_key')

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('digest_hour')
        batch_op.drop_column('digest_frequency')
        batch_op.drop_column('display_name')

    op.drop_table('conference_participant')
    with op.batch_alter_table('conference', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conference_starts_at'))
        batch_op.drop_index(batch_op.f('ix_conference_org_id'))
        batch_op.drop_index(batch_op.f('ix_conference_case_id'))

    op.drop_table('conference')
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_item_org_id'))
        batch_op.drop_index(batch_op.f('ix_agenda_item_meeting_on'))

    op.drop_table('agenda_item')
    op.drop_table('need_tally')
    op.drop_table('jour_fixe')
    
