"""issued documents, their numbering and downloads

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document_counters',
    sa.Column('procedure', sa.String(length=100), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('last_serial', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('procedure', 'fiscal_year', name=op.f('pk_document_counters'))
    )
    op.create_table('issued_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=36), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('procedure', sa.String(length=100), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('template', sa.String(length=300), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reserved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('storage_key', sa.String(length=1024), nullable=True),
    sa.Column('signer', sa.String(length=300), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by', sa.String(length=100), nullable=True),
    sa.Column('revocation_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                            name=op.f('fk_issued_documents_application_id_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_documents')),
    sa.UniqueConstraint('public_id', name=op.f('uq_issued_documents_public_id')),
    sa.UniqueConstraint('procedure', 'fiscal_year', 'serial',
                        name=op.f('uq_issued_documents_procedure_fiscal_year_serial')),
    sa.UniqueConstraint('application_id', 'task_id', name=op.f('uq_issued_documents_application_id_task_id'))
    )
    op.create_index(op.f('ix_issued_documents_application_id'), 'issued_documents', ['application_id'])
    op.create_index(op.f('ix_issued_documents_sha256'), 'issued_documents', ['sha256'])
    op.create_table('document_downloads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('client', sa.String(length=300), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['issued_documents.id'],
                            name=op.f('fk_document_downloads_document_id_issued_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_downloads'))
    )
    op.create_index(op.f('ix_document_downloads_document_id'), 'document_downloads', ['document_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_document_downloads_document_id'), table_name='document_downloads')
    op.drop_table('document_downloads')
    op.drop_index(op.f('ix_issued_documents_sha256'), table_name='issued_documents')
    op.drop_index(op.f('ix_issued_documents_application_id'), table_name='issued_documents')
    op.drop_table('issued_documents')
    op.drop_table('document_counters')
