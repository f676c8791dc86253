"""outbox mail delivery: status, attempts, back-off and the last error

Revision ID: notify1
Revises: seq1
Create Date: 2026-12-06 00:40:00
"""

import sqlalchemy as sa
from alembic import op

import p2pbank.db

revision = "notify1"
down_revision = "celery1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=8), server_default="queued", nullable=False)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("next_attempt_at", p2pbank.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("last_error", sa.String(length=300), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_outbox_mail_status"), "status IN ('queued','sent','failed')"
        )
        batch_op.create_check_constraint(batch_op.f("ck_outbox_mail_attempts"), "attempts >= 0")
        batch_op.create_index("ix_outbox_mail_due", ["status", "next_attempt_at"], unique=False)
    # Mail written before delivery existed and marked sent stays sent.
    op.execute("UPDATE outbox_mail SET status = 'sent' WHERE sent_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("outbox_mail", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_mail_due")
        batch_op.drop_constraint("ck_outbox_mail_attempts", type_="check")
        batch_op.drop_constraint("ck_outbox_mail_status", type_="check")
        batch_op.drop_column("last_error")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("status")
