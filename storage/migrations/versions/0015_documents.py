"""documents: what the bot issued on paper, signed scans as encrypted attachments, the date a
consent came back signed, a service's address and opening hours, and staff's contact for clients

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 05:00:00
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('ref_id', sa.Integer(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=False),
    sa.Column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['client_case.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_case_document_case_id'), 'case_document', ['case_id'], unique=False)
    op.create_index('ix_case_document_message', 'case_document', ['user_id', 'message_id'], unique=False)
    op.create_table('case_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('content_enc', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['client_case.id'], ),
    sa.ForeignKeyConstraint(['document_id'], ['case_document.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_case_attachment_case_id'), 'case_attachment', ['case_id'], unique=False)
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_signed_on', sa.Date(), nullable=True))
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_signed_on', sa.Date(), nullable=True))
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('hours', sqlmodel.sql.sqltypes.AutoString(length=200), server_default='', nullable=False))
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_kid', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('contact_enc', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('contact_enc')
        batch_op.drop_column('contact_kid')
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_column('hours')
        batch_op.drop_column('address')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_column('consent_signed_on')
    with op.batch_alter_table('client_case', schema=None) as batch_op:
        batch_op.drop_column('consent_signed_on')
    op.drop_index(op.f('ix_case_attachment_case_id'), table_name='case_attachment')
    op.drop_table('case_attachment')
    op.drop_index('ix_case_document_message', table_name='case_document')
    op.drop_index(op.f('ix_case_document_case_id'), table_name='case_document')
    op.drop_table('case_document')
