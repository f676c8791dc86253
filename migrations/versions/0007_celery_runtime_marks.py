"""runtime marks: the worker's heartbeat and the last finished scans

Revision ID: celery1
Revises: seq1
"""

import sqlalchemy as sa
from alembic import op

import p2pbank.db

revision = "celery1"
down_revision = "seq1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runtime_marks",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("at", p2pbank.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_runtime_marks")),
    )


def downgrade() -> None:
    op.drop_table("runtime_marks")
