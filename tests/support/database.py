"""The test database: which one this run uses, and sessions bound to a test's transaction."""

from __future__ import annotations

import os

from sqlalchemy.orm import Session, sessionmaker

from p2pbank.audit.keys import derive_pseudonym_key, session_info

TEST_SECRET = "test-secret-key-not-for-production-use-0123456789"

_SQLITE_FALLBACK: list[str] = []


def database_url_for_run() -> str:
    """TEST_DATABASE_URL, or one fresh SQLite file for the whole run."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url:
        return url
    if not _SQLITE_FALLBACK:
        import tempfile

        folder = tempfile.mkdtemp(prefix="p2pbank-test-")
        _SQLITE_FALLBACK.append(f"sqlite:///{folder}/test.sqlite3")
    return _SQLITE_FALLBACK[0]


def is_postgres() -> bool:
    """Whether this run uses PostgreSQL (row locks, triggers, real concurrency)."""
    return database_url_for_run().startswith(("postgres", "postgresql"))


def bound_sessionmaker(connection) -> sessionmaker[Session]:
    """Sessions inside the test's outer transaction."""
    # Services call commit(); here that only releases a savepoint of the outer transaction.
    return sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info=session_info(derive_pseudonym_key(TEST_SECRET)),  # the trust log's pseudonyms
    )


def row_counts(session) -> dict[str, int]:
    """Rows in every table: a refused command must leave all of them as they were."""
    from sqlalchemy import func, select

    from p2pbank.db import Base
    from p2pbank.models import load_all

    load_all()
    session.expire_all()
    return {
        table.name: session.scalar(select(func.count()).select_from(table))
        for table in Base.metadata.sorted_tables
    }
