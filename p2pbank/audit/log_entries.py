"""The log's entries and signed checkpoints as stored: pages of entries (with the log key's
signatures), one entry, the latest checkpoint and their history, and the ledger's leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.audit import journal
from p2pbank.audit.leaf_signing import signatures
from p2pbank.audit.models import LogLeaf, SignedCheckpoint
from p2pbank.audit.stored_tree import head_size, invalid
from p2pbank.errors import NotFound

MAX_ENTRIES_PER_PAGE = 1000


def entries(session: Session, start: int, end: int) -> list[LogLeaf]:
    """Leaves [start, end) in order; at most MAX_ENTRIES_PER_PAGE, end clipped to the size."""
    if start < 0:
        raise invalid("start", "start must be 0 or more.")
    if end < start:
        raise invalid("end", "end must not be below start.")
    end = min(end, start + MAX_ENTRIES_PER_PAGE, head_size(session))
    if end <= start:
        return []
    return list(
        session.scalars(
            select(LogLeaf)
            .where(LogLeaf.sequence >= start, LogLeaf.sequence < end)
            .order_by(LogLeaf.sequence)
        )
    )


@dataclass(frozen=True)
class SignedEntry:
    """A leaf as the API serves it: with the log key's signature of it, once signed."""

    sequence: int
    event_type: str
    recorded_at: datetime
    subject: str | None
    data: bytes
    leaf_hash: bytes
    signature: bytes | None
    integrated_at: datetime | None = None  # when the sequencer put it into the tree


def signed_entries(session: Session, start: int, end: int, key_id: str) -> list[SignedEntry]:
    """`entries(start, end)` with each entry's signature by `key_id` (None: not yet signed)."""
    leaves = entries(session, start, end)
    if not leaves:
        return []
    signed = signatures(session, leaves[0].sequence, leaves[-1].sequence + 1, key_id)
    return [
        SignedEntry(
            leaf.sequence,
            leaf.event_type,
            leaf.recorded_at,
            leaf.subject,
            bytes(leaf.data),
            bytes(leaf.leaf_hash),
            signed.get(leaf.sequence),
            leaf.integrated_at,
        )
        for leaf in leaves
    ]


def get_entry(session: Session, sequence: int) -> LogLeaf:
    leaf = session.get(LogLeaf, sequence)
    if leaf is None:
        raise NotFound("No such log entry.")
    return leaf


def latest_checkpoint(
    session: Session, *, key_id: str | None = None, origin: str | None = None
) -> SignedCheckpoint | None:
    """The largest checkpoint, optionally only those by one key (hex id) or for one origin."""
    query = select(SignedCheckpoint)
    if key_id is not None:
        query = query.where(SignedCheckpoint.key_id == key_id)
    if origin is not None:
        query = query.where(SignedCheckpoint.origin == origin)
    return session.scalar(
        query.order_by(SignedCheckpoint.tree_size.desc(), SignedCheckpoint.id.desc()).limit(1)
    )


def checkpoint_history(session: Session, *, page: int = 1, per_page: int = 50) -> tuple[list, int]:
    """(checkpoints newest first, total count)."""
    page = max(page, 1)
    total = session.scalar(select(func.count(SignedCheckpoint.id))) or 0
    rows = session.scalars(
        select(SignedCheckpoint)
        .order_by(SignedCheckpoint.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def leaf_json(leaf: LogLeaf) -> str:
    return bytes(leaf.data).decode()


def ledger_entry_leaves(session: Session, batch: int = 5000) -> Iterator[tuple[int, object]]:
    """(index, EntryLeaf) for every `ledger.entry` leaf in sequence order, or (index,
    reason) for one whose payload is not what the ledger writes. Read in batches."""
    start = 0
    while True:
        rows = session.execute(
            select(LogLeaf.sequence, LogLeaf.data)
            .where(LogLeaf.event_type == journal.LEDGER_ENTRY_EVENT, LogLeaf.sequence >= start)
            .order_by(LogLeaf.sequence)
            .limit(batch)
        ).all()
        if not rows:
            return
        for sequence, data in rows:
            try:
                leaf = journal.entry_leaf_from_data(sequence, bytes(data))
            except ValueError as exc:
                yield sequence, str(exc)
                continue
            yield sequence, leaf if leaf is not None else "is not typed ledger.entry"
        start = rows[-1][0] + 1
