"""job ids are never reused

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

SQLite reuses the largest rowid after a delete unless the table is AUTOINCREMENT; incidents
refer to jobs by id, so a finished job's id must not come back. PostgreSQL's sequences never
reuse ids: nothing to do there.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("jobs", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("jobs", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
