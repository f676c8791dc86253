"""Migrating an empty database gives exactly the models' schema (no drift)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from p2pbank.db import POSTGRES_DDL, Base, make_engine
from p2pbank.migrate import rendered_ddl, upgrade
from p2pbank.models import load_all


def _fresh_url(database_url: str, tmp_path) -> tuple[str, object]:
    """An empty database of the run's kind: a new SQLite file, or a new PG schema."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}", None
    admin = make_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
        conn.execute(text("CREATE SCHEMA migration_check"))
    sep = "&" if "?" in database_url else "?"
    return f"{database_url}{sep}options=-csearch_path%3Dmigration_check", admin


def test_upgrade_from_empty_matches_models(database_url, tmp_path):
    load_all()
    url, admin = _fresh_url(database_url, tmp_path)
    try:
        upgrade(url)
        engine = make_engine(url)
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
            tables = set(inspect(conn).get_table_names())
        engine.dispose()
        assert diff == [], f"models and migrations differ: {diff}"
        assert set(Base.metadata.tables) <= tables
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE"))
            admin.dispose()


def test_postgres_ddl_is_rendered_into_the_revisions():
    load_all()
    # Values, not source text (the formatter may change the quotes of the literals); as a
    # set: the registration order follows import order, which differs between runs.
    assert rendered_ddl() == set(POSTGRES_DDL)
