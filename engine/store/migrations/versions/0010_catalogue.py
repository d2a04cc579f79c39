"""the procedure catalogue of the applicant portal

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalogue_procedures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name_ja', sa.String(length=300), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=True),
    sa.Column('reading', sa.String(length=300), nullable=True),
    sa.Column('category', sa.String(length=100), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=False),
    sa.Column('keywords', sa.JSON(), nullable=False),
    sa.Column('life_events', sa.JSON(), nullable=False),
    sa.Column('summary_ja', sa.Text(), nullable=True),
    sa.Column('summary_en', sa.Text(), nullable=True),
    sa.Column('documents', sa.JSON(), nullable=False),
    sa.Column('fees', sa.JSON(), nullable=False),
    sa.Column('identity_level', sa.String(length=12), nullable=False),
    sa.Column('channel', sa.String(length=12), nullable=False),
    sa.Column('definition_key', sa.String(length=100), nullable=True),
    sa.Column('external_url', sa.String(length=1000), nullable=True),
    sa.Column('external_name', sa.String(length=200), nullable=True),
    sa.Column('counter', sa.Text(), nullable=True),
    sa.Column('related', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('search_name', sa.Text(), nullable=False),
    sa.Column('search_keywords', sa.Text(), nullable=False),
    sa.Column('search_other', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalogue_procedures')),
    sa.UniqueConstraint('slug', name=op.f('uq_catalogue_procedures_slug'))
    )
    op.create_index(op.f('ix_catalogue_procedures_category'), 'catalogue_procedures', ['category'])
    op.create_index(op.f('ix_catalogue_procedures_department'), 'catalogue_procedures', ['department'])
    op.create_index(op.f('ix_catalogue_procedures_updated_at'), 'catalogue_procedures', ['updated_at'])
    op.create_table('catalogue_life_events',
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('life_event', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['procedure_id'], ['catalogue_procedures.id'],
                            name=op.f('fk_catalogue_life_events_procedure_id_catalogue_procedures'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('procedure_id', 'life_event', name=op.f('pk_catalogue_life_events'))
    )
    op.create_index('ix_catalogue_life_events_life_event', 'catalogue_life_events', ['life_event'])


def downgrade() -> None:
    op.drop_index('ix_catalogue_life_events_life_event', table_name='catalogue_life_events')
    op.drop_table('catalogue_life_events')
    op.drop_index(op.f('ix_catalogue_procedures_updated_at'), table_name='catalogue_procedures')
    op.drop_index(op.f('ix_catalogue_procedures_department'), table_name='catalogue_procedures')
    op.drop_index(op.f('ix_catalogue_procedures_category'), table_name='catalogue_procedures')
    op.drop_table('catalogue_procedures')
