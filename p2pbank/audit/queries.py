"""Reading the trust log: roots, proofs and entries from storage, the explorer, and the
storage check behind `flask audit-verify`.

Proofs are computed by p2pbank.audit.merkle over stored perfect nodes. A proof touches at
most O(log^2 n) node keys (O(log n) in the usual case); they are collected in a dry run and
read in one query per table, so a proof costs two round trips at any log size.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from p2pbank.audit import journal, merkle
from p2pbank.audit.leaf_signing import signatures
from p2pbank.audit.models import HEAD_ID, LogHead, LogLeaf, LogNode, SignedCheckpoint
from p2pbank.audit.note import Verifier
from p2pbank.audit.verify import (
    DEFAULT_MAX_MERGE_DELAY,
    Entry,
    Problem,
    Report,
    SourceError,
    verify_log,
)
from p2pbank.errors import DomainError, Forbidden, InvalidState, NotFound, ValidationFailed

MAX_ENTRIES_PER_PAGE = 1000
T = TypeVar("T")
_PLACEHOLDER = bytes(32)


class StorageMissing(InvalidState):
    """A node or leaf the tree needs is not stored: the storage is damaged."""


AUDITOR_ROLE = "auditor"


def require_auditor(role_names: Iterable[str]) -> None:
    """The audit pages are for auditors (the public API serves the same pseudonymous data)."""
    if AUDITOR_ROLE not in set(role_names):
        raise Forbidden("The audit log pages are for auditors.")


def head_size(session: Session) -> int:
    """Leaves in the log now (committed or flushed in this transaction)."""
    size = session.scalar(select(LogHead.size).where(LogHead.id == HEAD_ID))
    return int(size or 0)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, field_errors={field: [message]})


def _require_size(session: Session, size: int, field: str = "size") -> int:
    current = head_size(session)
    if size < 0 or size > current:
        raise _invalid(field, f"The log has {current} entries; {field} must be 0..{current}.")
    return current


# --- stored nodes -------------------------------------------------------------------------


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
        return _PLACEHOLDER

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
        raise _invalid("index", f"index must be 0..{size - 1} for a tree of {size} entries.")

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
        raise _invalid("old", f"old must be 0..{new_size}.")

    def compute(subtree: merkle.SubtreeHash) -> tuple[list[bytes], bytes, bytes]:
        old_root = subtree(0, old_size) if old_size else merkle.EMPTY_ROOT
        new_root = subtree(0, new_size) if new_size else merkle.EMPTY_ROOT
        return merkle.consistency_proof(subtree, old_size, new_size), old_root, new_root

    path, old_root, new_root = with_stored_nodes(session, compute)
    return ConsistencyProof(old_size, new_size, path, old_root, new_root)


# --- entries and checkpoints --------------------------------------------------------------


def entries(session: Session, start: int, end: int) -> list[LogLeaf]:
    """Leaves [start, end) in order; at most MAX_ENTRIES_PER_PAGE, end clipped to the size."""
    if start < 0:
        raise _invalid("start", "start must be 0 or more.")
    if end < start:
        raise _invalid("end", "end must not be below start.")
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


@dataclass(frozen=True)
class ExplorerPage:
    leaves: list[LogLeaf]
    newer: int | None  # pass as after= to see newer entries
    older: int | None  # pass as before= to see older entries
    size: int


def explore(
    session: Session,
    *,
    subject: str | None = None,
    event_type: str | None = None,
    before: int | None = None,
    after: int | None = None,
    per_page: int = 50,
) -> ExplorerPage:
    """Entries newest first, filtered by pseudonym and/or type, paged by sequence cursors."""
    query = base = select(LogLeaf)
    if subject:
        query = base = query.where(LogLeaf.subject == subject.strip().lower())
    if event_type:
        query = base = query.where(LogLeaf.event_type == event_type.strip())
    if after is not None:
        rows = list(
            session.scalars(
                query.where(LogLeaf.sequence > after)
                .order_by(LogLeaf.sequence.asc())
                .limit(per_page + 1)
            )
        )
        more_newer = len(rows) > per_page
        leaves = list(reversed(rows[:per_page]))
        newer = leaves[0].sequence if more_newer and leaves else None
        older = leaves[-1].sequence if leaves else None
    else:
        if before is not None:
            query = query.where(LogLeaf.sequence < before)
        rows = list(session.scalars(query.order_by(LogLeaf.sequence.desc()).limit(per_page + 1)))
        leaves = rows[:per_page]
        older = leaves[-1].sequence if len(rows) > per_page else None
        newer = leaves[0].sequence if before is not None and leaves else None
    if older is not None and not _exists(session, base, LogLeaf.sequence < older):
        older = None
    if newer is not None and not _exists(session, base, LogLeaf.sequence > newer):
        newer = None
    return ExplorerPage(leaves, newer, older, head_size(session))


def _exists(session: Session, query, condition) -> bool:
    return session.scalar(query.where(condition).limit(1)) is not None


def leaf_json(leaf: LogLeaf) -> str:
    return bytes(leaf.data).decode()


# --- verification against the database ---------------------------------------------------


class DatabaseSource:
    """The verifier's LogSource reading this database instead of the HTTP API."""

    def __init__(self, session: Session, key_id: str | None = None) -> None:
        self.session = session
        self.key_id = key_id

    def checkpoint_note(self) -> str:
        checkpoint = latest_checkpoint(self.session, key_id=self.key_id)
        if checkpoint is None:
            raise SourceError("no checkpoint has been signed yet")
        return checkpoint.note

    def entries(self, start: int, end: int) -> list[Entry]:
        try:
            leaves = entries(self.session, start, end)
        except DomainError as exc:
            raise SourceError(exc.detail) from exc
        if not leaves:
            return []
        signed = (
            signatures(self.session, leaves[0].sequence, leaves[-1].sequence + 1, self.key_id)
            if self.key_id is not None
            else {}
        )
        return [
            Entry(
                leaf.sequence,
                bytes(leaf.data),
                bytes(leaf.leaf_hash),
                signed.get(leaf.sequence),
                leaf.integrated_at,
            )
            for leaf in leaves
        ]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        try:
            return inclusion(self.session, index, size).path
        except DomainError as exc:
            raise SourceError(exc.detail) from exc

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        try:
            return consistency(self.session, old_size, new_size).path
        except DomainError as exc:
            raise SourceError(exc.detail) from exc


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


def verify_database(
    session: Session,
    verifier: Verifier,
    *,
    proofs: int = 64,
    max_merge_delay: timedelta = DEFAULT_MAX_MERGE_DELAY,
) -> Report:
    """What `flask audit-verify` runs: the independent verifier over this database, the
    consistency of every signed checkpoint with the next, and the full storage check."""
    report = verify_log(
        DatabaseSource(session, verifier.key_id.hex()),
        verifier,
        proofs=proofs,
        max_merge_delay=max_merge_delay,
    )
    history = list(
        session.scalars(
            select(SignedCheckpoint)
            .where(SignedCheckpoint.key_id == verifier.key_id.hex())
            .order_by(SignedCheckpoint.tree_size, SignedCheckpoint.id)
        )
    )
    for older, newer in zip(history, history[1:], strict=False):
        if older.origin != newer.origin:
            continue
        proof = consistency(session, older.tree_size, newer.tree_size).path
        if not merkle.verify_consistency(
            older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, proof
        ):
            report.problems.append(
                Problem(
                    f"signed checkpoints of sizes {older.tree_size} and {newer.tree_size} "
                    "are not consistent"
                )
            )
        report.proofs_checked += 1
    report.problems.extend(check_storage(session))
    size = head_size(session)
    if report.checkpoint is not None and size > report.checkpoint.size:
        report.lines.append(
            f"entries {report.checkpoint.size}..{size - 1}: past the signed checkpoint; "
            "checked against their stored leaf hashes, the stored nodes and the log head "
            "only: a rewrite of all of those together is provable once a checkpoint covers them"
        )
    return report


# --- a proof explained step by step (the auditor's proof page) ----------------------------


@dataclass(frozen=True)
class ProofStep:
    number: int
    side: str  # "left" or "right": where the proof hash goes in SHA-256(0x01 || left || right)
    sibling_range: tuple[int, int]
    sibling_hash: bytes
    covered: tuple[int, int]  # the entries the running hash covers after this step
    result: bytes


@dataclass(frozen=True)
class ProofExplanation:
    leaf: LogLeaf
    index: int
    size: int
    leaf_hash: bytes  # recomputed from the entry's data
    leaf_hash_matches: bool  # ... and equal to the stored one
    steps: list[ProofStep]
    computed_root: bytes
    checkpoint: SignedCheckpoint | None  # the signed checkpoint of this size, if any
    expected_root: bytes  # the signed root, else the root of the stored tree (unsigned)
    verified: bool  # merkle.verify_inclusion of RFC 9162 against expected_root


def _proof_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The entries each element of PATH(index, D[size]) covers, leaf to root."""
    ranges: list[tuple[int, int]] = []

    def record(start: int, end: int) -> bytes:
        ranges.append((start, end))
        return _PLACEHOLDER

    merkle.inclusion_proof(record, index, size)
    ranges.reverse()
    return ranges


def explain_inclusion(
    session: Session, index: int, size: int, key_id: str | None = None
) -> ProofExplanation:
    """Prove entry `index` in the tree of `size` entries, keeping every hashing step."""
    proof = inclusion(session, index, size)
    leaf = get_entry(session, index)
    digest = merkle.leaf_hash(bytes(leaf.data))
    running, covered = digest, (index, index + 1)
    steps = []
    for number, (sibling, span) in enumerate(
        zip(proof.path, _proof_ranges(index, size), strict=True), start=1
    ):
        if span[0] < covered[0]:
            side, running, covered = (
                "left",
                merkle.node_hash(sibling, running),
                (span[0], covered[1]),
            )
        else:
            side, running, covered = (
                "right",
                merkle.node_hash(running, sibling),
                (covered[0], span[1]),
            )
        steps.append(ProofStep(number, side, span, sibling, covered, running))
    query = select(SignedCheckpoint).where(SignedCheckpoint.tree_size == size)
    if key_id is not None:
        query = query.where(SignedCheckpoint.key_id == key_id)
    checkpoint = session.scalar(query.order_by(SignedCheckpoint.id.desc()).limit(1))
    expected = checkpoint.root_hash if checkpoint is not None else proof.root_hash
    return ProofExplanation(
        leaf=leaf,
        index=index,
        size=size,
        leaf_hash=digest,
        leaf_hash_matches=digest == bytes(leaf.leaf_hash),
        steps=steps,
        computed_root=running,
        checkpoint=checkpoint,
        expected_root=bytes(expected),
        verified=merkle.verify_inclusion(digest, index, size, proof.path, bytes(expected)),
    )


# --- journal entries' leaves (for the ledger's checks) ------------------------------------


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
