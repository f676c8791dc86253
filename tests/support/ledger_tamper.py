"""The attacker of review finding 1: someone with write access to the database rewrites a
journal entry so thoroughly that the ledger's own invariants still hold.

`raise_entry_amount` bypasses the immutability triggers (PostgreSQL: replica mode for the
rest of the transaction; SQLite has none), raises the amount on both postings of a
two-legged entry, recomputes every later running balance and both cached balances, and
recomputes the entry's `content_hash` column. Only the entry's leaf in the trust log, which
the attacker leaves alone, still tells.
"""

from __future__ import annotations

from sqlalchemy import text

from p2pbank.audit.journal import content_hash
from p2pbank.db import UTCDateTime


def _as_aware(value, dialect):
    return UTCDateTime().process_result_value(value, dialect)


def raise_entry_amount(conn, entry_id: int, delta: int) -> None:
    """`conn`: a Session or Connection inside a transaction the caller commits (or not)."""
    dialect = conn.get_bind().dialect if hasattr(conn, "get_bind") else conn.dialect
    if dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = replica"))
    legs = conn.execute(
        text("SELECT id, account_id, amount_minor FROM postings WHERE entry_id = :e"),
        {"e": entry_id},
    ).all()
    assert len(legs) == 2, "the tamper helper rewrites two-legged entries"
    for posting_id, account_id, amount in legs:
        change = delta if amount > 0 else -delta
        conn.execute(
            text("UPDATE postings SET amount_minor = amount_minor + :c WHERE id = :p"),
            {"c": change, "p": posting_id},
        )
        conn.execute(
            text(
                "UPDATE postings SET balance_after_minor = balance_after_minor + :c "
                "WHERE account_id = :a AND id >= :p"
            ),
            {"c": change, "a": account_id, "p": posting_id},
        )
        conn.execute(
            text("UPDATE ledger_accounts SET posted_minor = posted_minor + :c WHERE id = :a"),
            {"c": change, "a": account_id},
        )
    entry = conn.execute(
        text(
            "SELECT idempotency_key, kind, currency, ref_type, ref_id, gateway_ref, memo, "
            "reverses_entry_id, created_at FROM journal_entries WHERE id = :e"
        ),
        {"e": entry_id},
    ).one()
    postings = conn.execute(
        text(
            "SELECT a.code, p.amount_minor FROM postings p JOIN ledger_accounts a "
            "ON a.id = p.account_id WHERE p.entry_id = :e"
        ),
        {"e": entry_id},
    ).all()
    created_at = entry.created_at
    if isinstance(created_at, str):  # SQLite through a plain text() query
        from datetime import datetime

        created_at = datetime.fromisoformat(created_at)
    digest = content_hash(
        idempotency_key=entry.idempotency_key,
        kind=entry.kind,
        currency=entry.currency,
        postings=[(code, amount) for code, amount in postings],
        ref_type=entry.ref_type,
        ref_id=entry.ref_id,
        gateway_ref=entry.gateway_ref,
        memo=entry.memo,
        reverses_entry_id=entry.reverses_entry_id,
        created_at=_as_aware(created_at, dialect),
    )
    conn.execute(
        text("UPDATE journal_entries SET content_hash = :h WHERE id = :e"),
        {"h": digest, "e": entry_id},
    )
    if dialect.name == "postgresql":
        conn.execute(text("SET LOCAL session_replication_role = origin"))
    if hasattr(conn, "expire_all"):
        conn.expire_all()
