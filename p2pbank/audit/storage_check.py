"""The storage check behind `flask audit-verify`: every stored leaf hash and node
recomputed in one pass, naming the entries each bad row covers.

It checks what the outside verifier cannot see: the stored nodes of the whole tree and the
log head, including the entries no checkpoint covers yet.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from p2pbank.audit import merkle
from p2pbank.audit.models import HEAD_ID, LogHead, LogLeaf, LogNode
from p2pbank.audit.verify_report import Problem


def _iter_leaves(session: Session, batch: int) -> Iterator[list[tuple[int, bytes, bytes]]]:
    start = 0
    while True:
        rows = session.execute(
            select(LogLeaf.sequence, LogLeaf.data, LogLeaf.leaf_hash)
            .where(LogLeaf.sequence >= start)
            .order_by(LogLeaf.sequence)
            .limit(batch)
        ).all()
        if not rows:
            return
        yield [(seq, bytes(data), bytes(h)) for seq, data, h in rows]
        start = rows[-1][0] + 1


def _nodes_completed_in(session: Session, start: int, end: int) -> dict[tuple[int, int], bytes]:
    """Stored nodes whose last leaf lies in [start, end): index in [start>>l, (end>>l)-1]."""
    conditions = []
    level = 1
    while (1 << level) <= end:
        low, high = start >> level, (end >> level) - 1
        if high >= low:
            conditions.append(and_(LogNode.level == level, LogNode.node_index.between(low, high)))
        level += 1
    if not conditions:
        return {}
    rows = session.execute(
        select(LogNode.level, LogNode.node_index, LogNode.hash).where(or_(*conditions))
    )
    return {(lv, ix): bytes(h) for lv, ix, h in rows}


def check_storage(session: Session, batch: int = 5000) -> list[Problem]:
    """Recompute every leaf hash from its data and every stored node from the stored leaf
    hashes below it, in one pass over the log.

    Names the entries each bad row covers: an entry whose data no longer matches its leaf
    hash (exactly), a node that does not match the hashes below it or is missing (the
    range it covers), a gap in the sequence, extra nodes, or a head whose size or compact
    range is wrong (the range of the first root that differs). A node is reported only if
    no node below it already was: one rewritten leaf hash makes every node above it differ,
    but only the lowest of them says where.
    """
    problems: list[Problem] = []
    compact = merkle.CompactRange()
    expected_nodes = 0
    flagged: set[tuple[int, int]] = set()
    for rows in _iter_leaves(session, batch):
        first, last = rows[0][0], rows[-1][0]
        stored = _nodes_completed_in(session, first, last + 1)
        for sequence, data, stored_hash in rows:
            if sequence != compact.size:
                problems.append(
                    Problem(f"entry {compact.size} is missing from storage", compact.size)
                )
                return problems
            digest = merkle.leaf_hash(data)
            if digest != stored_hash:
                problems.append(
                    Problem(f"stored leaf hash of entry {sequence} differs from its data", sequence)
                )
            # Nodes are checked against the stored leaf hashes, so one edited entry is
            # reported once, not again by every node above it.
            for level, index, value in compact.append(stored_hash)[1:]:
                expected_nodes += 1
                problem = _node_problem(level, index, value, stored.get((level, index)), flagged)
                if problem is not None:
                    problems.append(problem)
    node_count = session.scalar(select(func.count()).select_from(LogNode)) or 0
    if node_count != expected_nodes:
        problems.append(Problem(f"{node_count} nodes stored, {expected_nodes} expected"))
    head = session.get(LogHead, HEAD_ID)
    size, roots = (head.size, head.roots) if head else (0, [])
    if size != compact.size:
        problems.append(Problem(f"the log head says {size} entries, storage has {compact.size}"))
    elif list(compact.roots) != roots:
        problems.extend(_head_problem(compact, roots, flagged))
    return problems


def _node_problem(
    level: int, index: int, value: bytes, have: bytes | None, flagged: set[tuple[int, int]]
) -> Problem | None:
    """The stored node (level, index) against `value`, recomputed from stored leaf hashes."""
    if have is not None and have == value:
        return None
    flagged.add((level, index))
    if have is not None and {(level - 1, 2 * index), (level - 1, 2 * index + 1)} & flagged:
        return None  # explained by the node below that differs
    first_leaf = index << level
    last_leaf = first_leaf + (1 << level) - 1
    state = "missing" if have is None else "wrong"
    return Problem(
        f"stored node for entries [{first_leaf}, {last_leaf + 1}) is {state}",
        first_leaf,
        last_leaf,
    )


def _head_problem(compact: merkle.CompactRange, roots: list[bytes], flagged) -> list[Problem]:
    """The first root of the head's compact range that differs and no bad node explains."""
    message = "the log head's compact range differs from the stored leaves"
    if len(roots) != len(compact.roots):
        return [Problem(message)]
    position = 0
    for ours, theirs, level in zip(compact.roots, roots, _root_levels(compact.size), strict=True):
        if ours != theirs and (level, position >> level) not in flagged:
            return [Problem(message, position, position + (1 << level) - 1)]
        position += 1 << level
    return []


def _root_levels(size: int) -> list[int]:
    """The levels of the compact range's roots, largest subtree first."""
    return [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]
