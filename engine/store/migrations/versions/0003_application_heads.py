"""application audit heads and message waits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

The head of each application's audit chain moves from audit_heads into the application row,
which every step updates anyway; audit_heads keeps the system chain.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("message_waits", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("audit_seq", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("audit_hash", sa.String(length=64), server_default=GENESIS, nullable=False))
    op.execute(
        "UPDATE applications SET "
        "audit_seq = (SELECT h.seq FROM audit_heads h WHERE h.chain = 'application:' || applications.id), "
        "audit_hash = (SELECT h.hash FROM audit_heads h WHERE h.chain = 'application:' || applications.id) "
        "WHERE EXISTS (SELECT 1 FROM audit_heads h WHERE h.chain = 'application:' || applications.id)"
    )
    op.execute("DELETE FROM audit_heads WHERE chain LIKE 'application:%'")


def downgrade() -> None:
    op.execute(
        "INSERT INTO audit_heads (chain, seq, hash) "
        "SELECT 'application:' || id, audit_seq, audit_hash FROM applications WHERE audit_seq > 0"
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_column("audit_hash")
        batch_op.drop_column("audit_seq")
        batch_op.drop_column("message_waits")
