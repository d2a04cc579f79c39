"""a return's deadline on decision records

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('decision_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('decision_records', schema=None) as batch_op:
        batch_op.drop_column('deadline')
