"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""
import sqlalchemy as sa
from alembic import op

import p2pbank.db
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}

# PostgreSQL-only DDL (immutability triggers and the like): (create, drop) pairs.
POSTGRES_DDL = ${postgres_ddl if postgres_ddl is not UNDEFINED else "[]"}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}
    if op.get_bind().dialect.name == "postgresql":
        for create_sql, _drop_sql in POSTGRES_DDL:
            op.execute(create_sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for _create_sql, drop_sql in reversed(POSTGRES_DDL):
            op.execute(drop_sql)
    ${downgrades if downgrades else "pass"}
