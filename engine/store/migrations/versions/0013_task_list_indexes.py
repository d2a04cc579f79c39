"""indexes for fast task lists

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # task_id joins the candidate lookup so a tab's page and counts are read from the index alone.
    with op.batch_alter_table('task_candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_task_candidates_lookup')
        batch_op.create_index('ix_task_candidates_list', ['kind', 'name', 'created_at', 'task_id'], unique=False)
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_human_tasks_assignee_open', ['assignee', 'status', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_human_tasks_assignee_open')
    with op.batch_alter_table('task_candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_task_candidates_list')
        batch_op.create_index('ix_task_candidates_lookup', ['kind', 'name', 'created_at'], unique=False)
