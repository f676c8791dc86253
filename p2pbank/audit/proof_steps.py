"""A proof of inclusion explained step by step, for the auditor's proof page: which
entries each proof hash covers, on which side it is hashed, and the root it leads to.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.audit import merkle
from p2pbank.audit.log_entries import get_entry
from p2pbank.audit.models import LogLeaf, SignedCheckpoint
from p2pbank.audit.stored_tree import PLACEHOLDER, inclusion


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
        return PLACEHOLDER

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
