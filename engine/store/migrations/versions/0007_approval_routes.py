"""approval routes, absences, decision chain heads

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approval_routes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('plan', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('drafter', sa.String(length=100), nullable=True),
    sa.Column('last_sender', sa.String(length=100), nullable=True),
    sa.Column('last_sender_step', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                            name=op.f('fk_approval_routes_application_id_applications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_routes'))
    )
    op.create_index(op.f('ix_approval_routes_application_id'), 'approval_routes', ['application_id'])
    op.create_table('absences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user', sa.String(length=100), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('substitute', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_absences'))
    )
    op.create_index('ix_absences_user_period', 'absences', ['user', 'starts_at', 'ends_at'])
    op.create_index(op.f('ix_absences_substitute'), 'absences', ['substitute'])
    op.create_table('decision_heads',
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'],
                            name=op.f('fk_decision_heads_application_id_applications')),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_decision_heads'))
    )
    with op.batch_alter_table('human_tasks') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=16), server_default='task', nullable=False))
        batch.add_column(sa.Column('route_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('route_step', sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f('fk_human_tasks_route_id_approval_routes'), 'approval_routes',
                                 ['route_id'], ['id'], ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('human_tasks') as batch:
        batch.drop_constraint(op.f('fk_human_tasks_route_id_approval_routes'), type_='foreignkey')
        batch.drop_column('route_step')
        batch.drop_column('route_id')
        batch.drop_column('kind')
    op.drop_table('decision_heads')
    op.drop_index(op.f('ix_absences_substitute'), table_name='absences')
    op.drop_index('ix_absences_user_period', table_name='absences')
    op.drop_table('absences')
    op.drop_index(op.f('ix_approval_routes_application_id'), table_name='approval_routes')
    op.drop_table('approval_routes')
