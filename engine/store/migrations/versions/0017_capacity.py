"""capacity pools and reservations (定員)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('capacity_pools',
    sa.Column('pool', sa.String(length=200), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('pool', name=op.f('pk_capacity_pools'))
    )
    op.create_table('capacity_reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pool', sa.String(length=200), nullable=False),
    sa.Column('holder', sa.String(length=300), nullable=False),
    sa.Column('seat', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('reserved_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capacity_reservations')),
    sa.UniqueConstraint('pool', 'holder', name=op.f('uq_capacity_reservations_pool_holder'))
    )
    op.create_index(op.f('ix_capacity_reservations_pool'), 'capacity_reservations', ['pool'])
    op.create_index(op.f('ix_capacity_reservations_application_id'), 'capacity_reservations', ['application_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_capacity_reservations_application_id'), table_name='capacity_reservations')
    op.drop_index(op.f('ix_capacity_reservations_pool'), table_name='capacity_reservations')
    op.drop_table('capacity_reservations')
    op.drop_table('capacity_pools')
