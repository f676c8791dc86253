"""The stored Merkle tree: its size, its root and the proofs of inclusion and consistency,
computed by p2pbank.audit.merkle over the stored perfect nodes.

A proof touches at most O(log^2 n) node keys (O(log n) in the usual case); they are
collected in a dry run and read in one query per table, so a proof costs two round trips
at any log size.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from p2pbank.audit import merkle
from p2pbank.audit.models import HEAD_ID, LogHead, LogLeaf
from p2pbank.errors import InvalidState, ValidationFailed

T = TypeVar("T")
PLACEHOLDER = bytes(32)


class StorageMissing(InvalidState):
    """A node or leaf the tree needs is not stored: the storage is damaged."""


def head_size(session: Session) -> int:
    """Leaves in the log now (committed or flushed in this transaction)."""
    size = session.scalar(select(LogHead.size).where(LogHead.id == HEAD_ID))
    return int(size or 0)


def invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, field_errors={field: [message]})


def _require_size(session: Session, size: int, field: str = "size") -> int:
    current = head_size(session)
    if size < 0 or size > current:
        raise invalid(field, f"The log has {current} entries; {field} must be 0..{current}.")
    return current


@functools.lru_cache(maxsize=256)
def _nodes_statement(count: int):
    """SELECT the stored nodes at `count` (level, index) keys, each an equality on the
    primary key, so both databases answer with `count` index lookups. Plain SQL text:
    building the same as SQLAlchemy expressions costs more than the lookups themselves."""
    terms = " OR ".join(f"(level = :l{i} AND node_index = :n{i})" for i in range(count))
    return text(f"SELECT level, node_index, hash FROM audit_nodes WHERE {terms}")  # noqa: S608 - placeholders only


def _load_nodes(session: Session, keys: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    found: dict[tuple[int, int], bytes] = {}
    leaves = sorted(index for level, index in keys if level == 0)
    if leaves:
        rows = session.execute(
            select(LogLeaf.sequence, LogLeaf.leaf_hash).where(LogLeaf.sequence.in_(leaves))
        )
        found.update({(0, seq): bytes(h) for seq, h in rows})
    inner = sorted(key for key in keys if key[0] > 0)
    if inner:
        params = {}
        for i, (level, index) in enumerate(inner):
            params[f"l{i}"], params[f"n{i}"] = level, index
        rows = session.execute(_nodes_statement(len(inner)), params)
        found.update({(lv, ix): bytes(h) for lv, ix, h in rows})
    return found


def with_stored_nodes(session: Session, compute: Callable[[merkle.SubtreeHash], T]) -> T:
    """Run `compute(subtree_hash)` over the stored tree, reading all nodes in one go."""
    wanted: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        wanted.add((level, index))
        return PLACEHOLDER

    compute(merkle.subtree_hash_from_nodes(record))  # dry run: which nodes are needed
    found = _load_nodes(session, wanted)

    def lookup(level: int, index: int) -> bytes:
        try:
            return found[(level, index)]
        except KeyError:
            first = index << level
            raise StorageMissing(
                f"the stored node for entries [{first}, {first + (1 << level)}) is missing"
            ) from None

    return compute(merkle.subtree_hash_from_nodes(lookup))


def tree_root(session: Session, size: int) -> bytes:
    """MTH of the first `size` leaves from stored nodes (SHA-256("") for the empty tree)."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return with_stored_nodes(session, lambda subtree: subtree(0, size))


@dataclass(frozen=True)
class InclusionProof:
    index: int
    tree_size: int
    leaf_hash: bytes
    path: list[bytes]
    root_hash: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    path: list[bytes]
    old_root: bytes
    new_root: bytes


def inclusion(session: Session, index: int, size: int) -> InclusionProof:
    """The audit path of entry `index` in the tree of `size` entries, with that tree's root."""
    _require_size(session, size)
    if not 0 <= index < size:
        raise invalid("index", f"index must be 0..{size - 1} for a tree of {size} entries.")

    def compute(subtree: merkle.SubtreeHash) -> tuple[bytes, list[bytes], bytes]:
        return (
            subtree(index, index + 1),
            merkle.inclusion_proof(subtree, index, size),
            subtree(0, size),
        )

    leaf, path, root = with_stored_nodes(session, compute)
    return InclusionProof(index, size, leaf, path, root)


def consistency(session: Session, old_size: int, new_size: int) -> ConsistencyProof:
    """The proof that the tree of `new_size` entries extends the one of `old_size`."""
    _require_size(session, new_size, "new")
    if not 0 <= old_size <= new_size:
        raise invalid("old", f"old must be 0..{new_size}.")

    def compute(subtree: merkle.SubtreeHash) -> tuple[list[bytes], bytes, bytes]:
        old_root = subtree(0, old_size) if old_size else merkle.EMPTY_ROOT
        new_root = subtree(0, new_size) if new_size else merkle.EMPTY_ROOT
        return merkle.consistency_proof(subtree, old_size, new_size), old_root, new_root

    path, old_root, new_root = with_stored_nodes(session, compute)
    return ConsistencyProof(old_size, new_size, path, old_root, new_root)
