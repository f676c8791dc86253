"""The sequencer: queued leaves into the Merkle tree, in batches, by one writer at a time.

`integrate_queued` runs as scheduled work every second (p2pbank.jobs; `flask tick` and the
demo run it in process). Each batch is one transaction: take the single-writer lock, lock
the head row, read up to `limit` queued leaves in queue order, write their leaves and the
perfect nodes they complete with two bulk inserts, move the head, optionally sign a
checkpoint (p2pbank.audit.services.sign_checkpoint), commit.

Never skip a leaf, never integrate one twice
--------------------------------------------
Transactions commit out of the order they queued in: a leaf with a small id may become
visible after larger ones were integrated. On PostgreSQL every queued row carries its
transaction's id (`txid`), and the sequencer takes only rows whose transaction id is below
the oldest transaction of this database still running (from the snapshot's list of running
transactions): no transaction that could still commit such a row exists, so every one of
them is already visible. Queue order is (txid,
id) and the head keeps a cursor in it; everything at or before the cursor is integrated.
A transaction may also integrate its own rows (tests, one-shot scripts); those never move
the cursor. On SQLite writers are serialised (BEGIN IMMEDIATE), so every visible row is
final and the order is the id. Either way a leaf names its queue row in a unique column,
so no row is integrated twice even by a sequencer that lost its lock.

Single writer: `pg_try_advisory_xact_lock` on PostgreSQL (a second sequencer finds the
lock taken and returns at once; the head row's lock would serialise them anyway), a
process lock plus the database's write lock on SQLite.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import select, text, tuple_
from sqlalchemy.orm import Session

from p2pbank.audit.merkle import CompactRange, leaf_hash
from p2pbank.audit.models import LogLeaf, LogNode, QueuedLeaf
from p2pbank.audit.note import Signer
from p2pbank.audit.promises import leaf_bytes
from p2pbank.audit.services import format_time, lock_head, sign_checkpoint
from p2pbank.bulk_insert import insert_rows

DEFAULT_BATCH = 5000
# pg advisory lock key: "p2pbseq" as an integer, fixed so every process agrees.
ADVISORY_KEY = int.from_bytes(b"p2pbseq", "big")
_PROCESS_LOCK = threading.Lock()
_COLUMNS = (
    QueuedLeaf.id,
    QueuedLeaf.txid,
    QueuedLeaf.event_type,
    QueuedLeaf.subject,
    QueuedLeaf.payload,
    QueuedLeaf.queued_at,
)
# The safe bound: the oldest transaction of *this* database still running (its id), else
# the snapshot's xmax. Transactions of other databases on the same server cannot have
# queued rows here, so they are left out (a lock-table entry names each one's backend);
# one we cannot place counts as ours, which only makes the bound lower.
_CLEAR_ACTIVITY = text("SELECT pg_stat_clear_snapshot()")
_SNAPSHOT = text(
    """
    WITH snap AS (SELECT pg_current_snapshot() AS s),
    elsewhere AS (
        SELECT l.transactionid::text::bigint AS xid
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
          AND a.datname IS DISTINCT FROM current_database()
    )
    SELECT coalesce(
               (SELECT min(x::text::bigint) FROM pg_snapshot_xip((SELECT s FROM snap)) AS x
                WHERE x::text::bigint % 4294967296 NOT IN (SELECT xid FROM elsewhere)),
               pg_snapshot_xmax((SELECT s FROM snap))::text::bigint),
           pg_current_xact_id_if_assigned()::text::bigint
    """
)


def _not_integrated():
    return ~select(LogLeaf.queue_id).where(LogLeaf.queue_id == QueuedLeaf.id).exists()


def _safe_rows(session: Session, cursor: tuple[int, int], limit: int) -> tuple[list, tuple]:
    """Up to `limit` queued rows in queue order that are final and not integrated, and the
    cursor after them."""
    connection = session.connection()
    after = tuple_(QueuedLeaf.txid, QueuedLeaf.id) > tuple_(*cursor)
    query = select(*_COLUMNS).where(after, _not_integrated())
    if connection.dialect.name != "postgresql":
        rows = list(connection.execute(query.order_by(QueuedLeaf.id).limit(limit)))
        return rows, ((rows[-1].txid, rows[-1].id) if rows else cursor)
    connection.execute(_CLEAR_ACTIVITY)
    xmin, own = connection.execute(_SNAPSHOT).one()
    if own is not None:  # a snapshot does not list its own transaction as running
        xmin = min(xmin, own)
    rows = list(
        connection.execute(
            query.where(QueuedLeaf.txid < xmin)
            .order_by(QueuedLeaf.txid, QueuedLeaf.id)
            .limit(limit)
        )
    )
    moved = (rows[-1].txid, rows[-1].id) if rows else cursor
    if own is not None and len(rows) < limit:  # this transaction's own rows: final for it
        rows += connection.execute(
            select(*_COLUMNS)
            .where(QueuedLeaf.txid == own, _not_integrated())
            .order_by(QueuedLeaf.id)
            .limit(limit - len(rows))
        )
    return rows, moved


def _take_lock(session: Session) -> bool:
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return True
    return bool(
        connection.execute(
            text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": ADVISORY_KEY}
        ).scalar_one()
    )


def integrate_batch(session: Session, now: datetime, limit: int = DEFAULT_BATCH) -> int:
    """Integrate up to `limit` queued leaves inside the caller's transaction (flush only);
    the caller holds the single-writer lock. Returns how many."""
    head = lock_head(session)
    rows, cursor = _safe_rows(session, (head.queue_txid, head.queue_id), limit)
    if not rows:
        return 0
    compact = CompactRange(head.size, head.roots)
    leaves, nodes = [], []
    for row in rows:
        data = leaf_bytes(
            compact.size,
            row.event_type,
            format_time(row.queued_at),
            row.subject,
            bytes(row.payload),
        )
        digest = leaf_hash(data)
        leaves.append(
            {
                "sequence": compact.size,
                "event_type": row.event_type,
                "recorded_at": row.queued_at,
                "subject": row.subject,
                "data": data,
                "leaf_hash": digest,
                "queue_id": row.id,
                "integrated_at": now,
            }
        )
        nodes += [
            {"level": lv, "node_index": ix, "hash": h} for lv, ix, h in compact.append(digest)[1:]
        ]
    insert_rows(session, LogLeaf.__table__, leaves)
    insert_rows(session, LogNode.__table__, nodes)
    head.size = compact.size
    head.frontier = b"".join(compact.roots)
    head.updated_at = now
    head.queue_txid, head.queue_id = cursor
    session.flush()
    return len(rows)


def integrate_queued(
    session: Session,
    now: datetime,
    limit: int = DEFAULT_BATCH,
    *,
    signer: Signer | None = None,
    max_batches: int | None = None,
) -> int:
    """Integrate every queued leaf that is final, `limit` per batch, each batch committed
    (with a checkpoint signed after it when `signer` is given). Returns how many leaves;
    0 at once if another sequencer holds the lock."""
    local = session.get_bind().dialect.name != "postgresql"
    if local and not _PROCESS_LOCK.acquire(blocking=False):
        return 0
    total, batches = 0, 0
    try:
        while max_batches is None or batches < max_batches:
            try:
                if not _take_lock(session):
                    session.rollback()
                    return total
                count = integrate_batch(session, now, limit)
                if count and signer is not None:
                    sign_checkpoint(session, signer, signer.name, integrate=False)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            total += count
            batches += 1
            if count < limit:
                break
    finally:
        if local:
            _PROCESS_LOCK.release()
    return total
