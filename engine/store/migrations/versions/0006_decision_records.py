"""decision records

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('signing_keys',
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('algorithm', sa.String(length=20), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key_id', name=op.f('pk_signing_keys'))
    )
    op.create_table('decision_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=200), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('on_behalf_of', sa.String(length=100), nullable=True),
    sa.Column('decision', sa.String(length=40), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_decision_records_application_id_applications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_records')),
    sa.UniqueConstraint('application_id', 'seq', name=op.f('uq_decision_records_application_id_seq'))
    )


def downgrade() -> None:
    op.drop_table('decision_records')
    op.drop_table('signing_keys')
