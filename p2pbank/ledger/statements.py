"""The SQL that writes one journal entry, built once per shape (number of legs, number of
accounts) so that only parameters change from one entry to the next.

On PostgreSQL an entry is written in one statement: the entry's INSERT, its postings, the
accounts' cached balances and its trust-log leaf, as data-modifying CTEs that all hang on
the entry's row. That is one round trip where the same work in steps takes four, and the
platform's every money movement passes here. SQLite has no data-modifying CTEs and no
network, so there the same rows are written in steps (`insert_entry`, `insert_postings`,
`update_balances`).

In both, the entry's INSERT is also its idempotency check: a key already taken inserts
nothing (ON CONFLICT DO NOTHING) and returns no id, so nothing else is written, and only
then does the caller look the stored entry up.
"""

from __future__ import annotations

import functools

from sqlalchemy import TextClause, Update, bindparam, case, text, update
from sqlalchemy.dialects import sqlite

from p2pbank.audit.models import QueuedLeaf
from p2pbank.db import UTCDateTime
from p2pbank.ledger.models import Account, JournalEntry, Posting

ACCOUNTS = Account.__table__
ENTRIES = JournalEntry.__table__
POSTINGS = Posting.__table__
QUEUE = QueuedLeaf.__table__

ENTRY_COLUMNS = [column.key for column in ENTRIES.columns if column.key != "id"]
_TIMES = (bindparam("created_at", type_=UTCDateTime()),)

INSERT_ENTRY_SQLITE = (
    sqlite.insert(ENTRIES)
    .on_conflict_do_nothing(index_elements=[ENTRIES.c.idempotency_key])
    .returning(ENTRIES.c.id)
)
UPDATE_BALANCES = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("account_id"))
    .values(posted_minor=bindparam("posted"), held_minor=bindparam("held"))
)
FEW_ACCOUNTS = 8  # up to this many balances move in one statement, more in an executemany


def leg_params(rows: list[tuple[int, int, int]]) -> dict[str, int]:
    """Parameters of the postings: (account id, amount, balance after) per leg."""
    return {
        f"{name}_{n}": value
        for n, row in enumerate(rows)
        for name, value in zip(("account", "amount", "balance"), row, strict=True)
    }


def balance_params(balances: dict[int, list[int]]) -> dict[str, int]:
    """Parameters of the balances: account id -> [posted, held] after the entry."""
    return {
        f"{name}_{n}": value
        for n, (account_id, (posted, held)) in enumerate(balances.items())
        for name, value in (("id", account_id), ("posted", posted), ("held", held))
    }


@functools.cache
def insert_postings(legs: int) -> TextClause:
    """One INSERT of an entry's postings. Plain text: SQLAlchemy does not cache a multi-row
    VALUES insert, and compiling one per entry would cost more than the insert itself."""
    rows = ", ".join(
        f"(:entry_id, :account_{n}, :amount_{n}, :currency, :balance_{n})" for n in range(legs)
    )
    return text(
        f"INSERT INTO {POSTINGS.name} "
        "(entry_id, account_id, amount_minor, currency, balance_after_minor) "
        f"VALUES {rows}"
    )


@functools.cache
def update_few_balances(accounts: int) -> Update:
    """One UPDATE of a few accounts' cached balances (a CASE per column)."""
    ids = [bindparam(f"id_{n}") for n in range(accounts)]

    def by_id(name: str):
        return case(*((ACCOUNTS.c.id == ids[n], bindparam(f"{name}_{n}")) for n in range(accounts)))

    return (
        update(ACCOUNTS)
        .where(ACCOUNTS.c.id.in_(ids))
        .values(posted_minor=by_id("posted"), held_minor=by_id("held"))
    )


@functools.cache
def write_entry_postgres(legs: int, accounts: int, leaf: bool) -> TextClause:
    """Entry, postings, balances and (with `leaf`) the trust-log leaf in one statement,
    returning the entry's id, or no row when its idempotency key is taken (then nothing is
    written: every other part selects from the entry's row, or waits for it to exist)."""
    columns = ", ".join(ENTRY_COLUMNS)
    values = ", ".join(f":{name}" for name in ENTRY_COLUMNS)
    legs_values = ", ".join(
        f"(CAST(:account_{n} AS BIGINT), CAST(:amount_{n} AS BIGINT), CAST(:balance_{n} AS BIGINT))"
        for n in range(legs)
    )
    balance_ids = ", ".join(f":id_{n}" for n in range(accounts))

    def by_id(name: str) -> str:
        whens = " ".join(f"WHEN :id_{n} THEN CAST(:{name}_{n} AS BIGINT)" for n in range(accounts))
        return f"CASE id {whens} END"

    leaf_part = (
        f", leaf AS (INSERT INTO {QUEUE.name} "
        "(event_type, subject, payload, ref_id, queued_at, txid) "
        "SELECT :leaf_type, NULL, "
        "CAST(:leaf_head AS BYTEA) || convert_to(CAST(entry.id AS TEXT), 'UTF8') "
        "|| CAST(:leaf_tail AS BYTEA), entry.id, :queued_at, "
        "CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT) FROM entry)"
        if leaf
        else ""
    )
    statement = text(
        f"WITH entry AS (INSERT INTO {ENTRIES.name} ({columns}) VALUES ({values}) "
        "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id), "
        f"legs AS (INSERT INTO {POSTINGS.name} "
        "(entry_id, account_id, amount_minor, currency, balance_after_minor) "
        "SELECT entry.id, v.account_id, v.amount, :currency, v.balance "
        f"FROM entry, (VALUES {legs_values}) AS v (account_id, amount, balance)), "
        f"balances AS (UPDATE {ACCOUNTS.name} "
        f"SET posted_minor = {by_id('posted')}, held_minor = {by_id('held')} "
        f"WHERE id IN ({balance_ids}) AND EXISTS (SELECT 1 FROM entry))"
        f"{leaf_part} SELECT id FROM entry"
    )
    times = _TIMES + ((bindparam("queued_at", type_=UTCDateTime()),) if leaf else ())
    return statement.bindparams(*times)
