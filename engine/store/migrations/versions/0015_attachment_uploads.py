"""attachment uploads (resumable, tus)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attachment_uploads',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('owner', sa.String(length=40), nullable=False),
    sa.Column('procedure_key', sa.String(length=200), nullable=True),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('length', sa.BigInteger(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('max_bytes', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('storage_key', sa.String(length=1024), nullable=True),
    sa.Column('content_type', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment_uploads'))
    )
    op.create_index(op.f('ix_attachment_uploads_owner'), 'attachment_uploads', ['owner'])
    op.create_index(op.f('ix_attachment_uploads_expires_at'), 'attachment_uploads', ['expires_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_attachment_uploads_expires_at'), table_name='attachment_uploads')
    op.drop_index(op.f('ix_attachment_uploads_owner'), table_name='attachment_uploads')
    op.drop_table('attachment_uploads')
