"""applicant accounts

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('applicants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('session_version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('language', sa.String(length=5), server_default='ja', nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_kana', sa.String(length=200), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('postcode', sa.String(length=8), nullable=True),
    sa.Column('address', sa.String(length=500), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('company_name', sa.String(length=300), nullable=True),
    sa.Column('company_name_kana', sa.String(length=300), nullable=True),
    sa.Column('corporate_number', sa.String(length=13), nullable=True),
    sa.Column('representative', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_signed_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applicants')),
    sa.UniqueConstraint('email', name=op.f('uq_applicants_email'))
    )
    op.create_index(op.f('ix_applicants_corporate_number'), 'applicants', ['corporate_number'])
    op.create_table('applicant_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['applicant_id'], ['applicants.id'],
                            name=op.f('fk_applicant_tokens_applicant_id_applicants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applicant_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_applicant_tokens_token_hash'))
    )
    op.create_index(op.f('ix_applicant_tokens_applicant_id'), 'applicant_tokens', ['applicant_id'])
    op.create_table('applicant_applications',
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['applicant_id'], ['applicants.id'],
                            name=op.f('fk_applicant_applications_applicant_id_applicants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                            name=op.f('fk_applicant_applications_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_applicant_applications'))
    )
    op.create_index(op.f('ix_applicant_applications_applicant_id'), 'applicant_applications', ['applicant_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_applicant_applications_applicant_id'), table_name='applicant_applications')
    op.drop_table('applicant_applications')
    op.drop_index(op.f('ix_applicant_tokens_applicant_id'), table_name='applicant_tokens')
    op.drop_table('applicant_tokens')
    op.drop_index(op.f('ix_applicants_corporate_number'), table_name='applicants')
    op.drop_table('applicants')
