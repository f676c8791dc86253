"""Alembic environment: the URL comes from the caller (p2pbank.migrate) or DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

from p2pbank.db import POSTGRES_DDL, Base, make_engine
from p2pbank.models import load_all

load_all()
config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    return url


def _render_ddl() -> str:
    """PostgreSQL triggers rendered literally, so the revision never changes later; a new
    revision renders only the pairs no earlier revision holds."""
    from p2pbank.migrate import rendered_ddl

    done = rendered_ddl()
    pairs = [pair for pair in POSTGRES_DDL if pair not in done]
    return "[\n" + "".join(f"    ({c!r},\n     {d!r}),\n" for c, d in pairs) + "]"


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        template_args={"postgres_ddl": _render_ddl()},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
