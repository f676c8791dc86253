"""Print the PostgreSQL URL the suite should use, creating the test database if needed.

Prints nothing (and warns loudly on stderr) when no PostgreSQL answers; under CI that is
an error, because CI must always test on PostgreSQL.
"""

from __future__ import annotations

import os
import sys

import psycopg

DEFAULT_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_NAME = "p2pbank_test"


def main() -> int:
    explicit = os.environ.get("TEST_DATABASE_URL", "")
    if explicit:
        print(explicit)
        return 0
    try:
        with psycopg.connect(DEFAULT_ADMIN, connect_timeout=3, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DB_NAME,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    except psycopg.OperationalError as exc:
        banner = "!" * 78
        print(
            f"{banner}\n! PostgreSQL is not reachable on 127.0.0.1:5432: {exc}\n"
            f"! Running the suite on SQLite ONLY. Row locks, triggers and concurrency\n"
            f"! tests are skipped. Set TEST_DATABASE_URL or start PostgreSQL.\n{banner}",
            file=sys.stderr,
        )
        return 1 if os.environ.get("CI") else 0
    print(f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
