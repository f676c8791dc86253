"""Many rows into one table inside the session's transaction, as fast as the database
allows: COPY on PostgreSQL (one stream, no statement per row), an executemany elsewhere.

For bulk work such as the scores job publishing 100,000 members: the ORM's bulk insert
sends one statement per row to PostgreSQL, which costs more than computing the rows.
Rows are dicts with a value for every column named in the first row; values are what the
columns hold (aware datetimes, bytes, ints, strings, None). Column defaults do not apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from p2pbank.db import UTCDateTime


def insert_rows(session: Session, table: Table, rows: Sequence[dict]) -> None:
    """Insert `rows` into `table` in the session's transaction (flushes pending ORM work
    first, so the rows land after it)."""
    if not rows:
        return
    session.flush()
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    times = [n for n in names if isinstance(table.c[n].type, UTCDateTime)]
    quoted = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in names)
    statement = f"COPY {table.name} ({quoted}) FROM STDIN"  # noqa: S608 - names from the model
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            if times:
                row = {**row, **{n: _utc(row[n]) for n in times}}
            copy.write_row([row[name] for name in names])


def _utc(value: datetime | None) -> datetime | None:
    """What UTCDateTime stores: aware, in UTC (COPY bypasses the column type)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are refused; use p2pbank.clock.now()")
    return value.astimezone(UTC)
