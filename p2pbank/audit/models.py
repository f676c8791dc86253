"""The trust log's storage: leaves, perfect-subtree nodes, the log head and signed checkpoints.

The log is the Merkle tree of RFC 9162 over the leaves in sequence order. Every left subtree
of that tree is perfect, so its hash never changes once its last leaf is in: each append
stores the perfect nodes it completes (`p2pbank.audit.merkle.CompactRange.append`) and any
tree node, proof or root is then assembled from O(log n) stored rows. Level-0 nodes are the
leaf hashes kept on the leaves themselves; `audit_nodes` holds levels 1 and up.

One head row (id 1) holds the size and the compact range (the roots of the perfect subtrees
covering the log, largest first) so an append reads one row instead of the tree. Appends
lock that row, which also serialises sequence numbers on PostgreSQL.

Leaves from busy commands arrive through `audit_queue` (p2pbank.audit.queue): the command's
transaction inserts a queued leaf and touches no shared row; the sequencer
(p2pbank.audit.sequencer) integrates queued leaves into the tree in batches. A leaf
integrated that way names its queue row (`queue_id`, unique: never integrated twice), and
the head keeps the sequencer's cursor over the queue.

Append-only three ways: the ORM refuses to update or delete leaves, nodes and checkpoints;
on PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE on those tables and refuse a head
row that shrinks; and the signed checkpoints let anyone outside detect a rewrite.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime, register_postgres_ddl
from p2pbank.errors import InvalidState

HEAD_ID = 1


class AppendOnlyViolation(InvalidState):
    """Someone tried to change or delete a row of the trust log."""


class LogLeaf(Base):
    """One event: the canonical JSON the leaf hash commits to, plus columns to search by."""

    __tablename__ = "audit_leaves"
    __table_args__ = (
        CheckConstraint("sequence >= 0", name="sequence_non_negative"),
        CheckConstraint("length(leaf_hash) = 32", name="leaf_hash_size"),
        Index("ix_audit_leaves_subject_sequence", "subject", "sequence"),
        Index("ix_audit_leaves_event_type_sequence", "event_type", "sequence"),
    )

    # The leaf's index in the tree (0-based), assigned under the head lock.
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_type: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # HMAC pseudonym of the member the event is about (None for platform events).
    subject: Mapped[str | None] = mapped_column(String(64))
    # RFC 8785 canonical JSON of {sequence, type, time, subject, payload}: the leaf data.
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # SHA-256(0x00 || data), the level-0 node of the tree.
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The queue row it came from (None: appended directly), and when it entered the tree.
    queue_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    integrated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LogNode(Base):
    """The hash of the perfect subtree over leaves [index * 2**level, (index + 1) * 2**level)."""

    __tablename__ = "audit_nodes"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 63", name="level_range"),
        CheckConstraint("node_index >= 0", name="node_index_non_negative"),
        CheckConstraint("length(hash) = 32", name="hash_size"),
    )

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogHead(Base):
    """The single row that appends lock: size and compact range of the log."""

    __tablename__ = "audit_log_head"
    __table_args__ = (
        CheckConstraint(f"id = {HEAD_ID}", name="single_row"),
        CheckConstraint("size >= 0", name="size_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # The compact range's roots, 32 bytes each, largest subtree first (one per set bit of size).
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # The sequencer's cursor over the queue in (txid, id) order: every queued leaf at or
    # before it that will ever commit is in the tree (p2pbank.audit.sequencer).
    queue_txid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    queue_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    @property
    def roots(self) -> list[bytes]:
        return [self.frontier[i : i + 32] for i in range(0, len(self.frontier), 32)]


class QueuedLeaf(Base):
    """A leaf waiting for the sequencer: everything its data will hold but the sequence.

    Insert-only. `txid` is the inserting transaction's id on PostgreSQL (0 on SQLite,
    whose writers are serialised), which tells the sequencer when no transaction that
    could still commit an earlier leaf is running."""

    __tablename__ = "audit_queue"
    __table_args__ = (
        Index("ix_audit_queue_txid_id", "txid", "id"),
        Index("ix_audit_queue_event_type_ref_id", "event_type", "ref_id"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    event_type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))
    # RFC 8785 canonical JSON of the payload alone.
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    # The caller's row the event is about (a journal entry's id), to find its promise by.
    ref_id: Mapped[int | None] = mapped_column(BigInteger)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SignedCheckpoint(Base):
    """A C2SP checkpoint (origin, size, root) signed as a note with the log's key."""

    __tablename__ = "audit_checkpoints"
    __table_args__ = (
        UniqueConstraint("origin", "key_id", "tree_size"),
        CheckConstraint("tree_size >= 0", name="tree_size_non_negative"),
        CheckConstraint("length(root_hash) = 32", name="root_hash_size"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    origin: Mapped[str] = mapped_column(String(255))
    key_name: Mapped[str] = mapped_column(String(255))
    key_id: Mapped[str] = mapped_column(String(8))  # hex of the 4-byte note key id
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class LeafSignature(Base):
    """The log key's signature over one entry's leaf hash (p2pbank.audit.leaf_signatures),
    made when the first checkpoint covering the entry is signed."""

    __tablename__ = "audit_leaf_signatures"
    __table_args__ = (
        CheckConstraint("sequence >= 0", name="sequence_non_negative"),
        CheckConstraint("length(signature) = 64", name="signature_size"),
    )

    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)  # hex of the note key id
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


APPEND_ONLY = (LogLeaf, LogNode, SignedCheckpoint, LeafSignature, QueuedLeaf)


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_the_log(session: Session, _context, _instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, (*APPEND_ONLY, LogHead)):
            raise AppendOnlyViolation(f"{type(obj).__name__} rows are never deleted")
    for obj in session.dirty:
        if isinstance(obj, APPEND_ONLY) and session.is_modified(obj, include_collections=False):
            raise AppendOnlyViolation(f"{type(obj).__name__} rows are never changed")


def _refuse_row_change(_mapper, _connection, target) -> None:
    raise AppendOnlyViolation(f"{type(target).__name__} rows are never changed or deleted")


for _cls in APPEND_ONLY:
    event.listen(_cls, "before_update", _refuse_row_change)
    event.listen(_cls, "before_delete", _refuse_row_change)
event.listen(LogHead, "before_delete", _refuse_row_change)


register_postgres_ddl(
    """CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'the audit log is append-only: ' || TG_OP || ' on ' || TG_TABLE_NAME,
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql""",
    "DROP FUNCTION IF EXISTS audit_refuse_change()",
)
for _table in (
    "audit_leaves",
    "audit_nodes",
    "audit_checkpoints",
    "audit_leaf_signatures",
    "audit_queue",
):
    register_postgres_ddl(
        f"CREATE TRIGGER {_table}_append_only BEFORE UPDATE OR DELETE ON {_table} "
        "FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()",
        f"DROP TRIGGER IF EXISTS {_table}_append_only ON {_table}",
    )
    register_postgres_ddl(
        f"CREATE TRIGGER {_table}_no_truncate BEFORE TRUNCATE ON {_table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
        f"DROP TRIGGER IF EXISTS {_table}_no_truncate ON {_table}",
    )
register_postgres_ddl(
    """CREATE OR REPLACE FUNCTION audit_head_only_grows() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.id <> OLD.id OR NEW.size < OLD.size THEN
        RAISE EXCEPTION USING
            MESSAGE = 'the audit log head only grows: ' || TG_OP || ' refused',
            ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
    "DROP FUNCTION IF EXISTS audit_head_only_grows()",
)
register_postgres_ddl(
    "CREATE TRIGGER audit_log_head_only_grows BEFORE UPDATE OR DELETE ON audit_log_head "
    "FOR EACH ROW EXECUTE FUNCTION audit_head_only_grows()",
    "DROP TRIGGER IF EXISTS audit_log_head_only_grows ON audit_log_head",
)
register_postgres_ddl(
    "CREATE TRIGGER audit_log_head_no_truncate BEFORE TRUNCATE ON audit_log_head "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()",
    "DROP TRIGGER IF EXISTS audit_log_head_no_truncate ON audit_log_head",
)
