"""Finding the first entry that differs from what a signed checkpoint holds.

The signed root is the only hash the verifier trusts. Walking down from it, a node's hash
is trusted when it is the signed root or when it and its sibling hash to a trusted parent
(collision resistance); the server's claims for the two children of a trusted node come
from its inclusion proofs. At each trusted node whose local hash (from the downloaded data)
differs, the walk goes into the left child if that differs, else into the right one, and
ends at a single entry: exactly the first bad one.

The earlier binary search asked the server for consistency proofs of growing prefixes. A
proof for a prefix also carries hashes from *after* it; when an entry's data and stored
leaf hash were both rewritten, those hashes were the rewritten ones, so even intact
prefixes failed to prove and the search named an entry before the rewritten one (4 for 5).

The walk stops early only where the server's stored hashes contradict the trusted parent
and the local hashes cannot settle it, as for two sibling entries when one of them was
rewritten together with its stored leaf hash: the signed tree fixes only their combined
hash. Signed leaves (p2pbank.audit.leaf_signatures) settle that: an entry whose own
signature verifies over its recomputed hash is good, one whose signature fails is bad.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from p2pbank.audit import merkle

Claims = Callable[[int, int], list[bytes] | None]
"""proof(index, size) -> the server's inclusion proof, or None if it cannot be had."""
LeafVerdict = Callable[[int], bool | None]
"""verdict(index) -> True: the entry is proven good; False: proven bad; None: unknown."""


def _sibling_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The entries each hash of PATH(index, D[size]) covers, leaf to root."""
    ranges: list[tuple[int, int]] = []

    def record(start: int, end: int) -> bytes:
        ranges.append((start, end))
        return bytes(merkle.HASH_SIZE)

    merkle.inclusion_proof(record, index, size)
    ranges.reverse()
    return ranges


def _claim(proof: Claims, index: int, size: int, span: tuple[int, int]) -> bytes | None:
    """The server's hash of node `span`, read from the inclusion proof of entry `index`."""
    path = proof(index, size)
    if path is None:
        return None
    ranges = _sibling_ranges(index, size)
    if len(path) != len(ranges) or span not in ranges:
        return None
    value = path[ranges.index(span)]
    return value if isinstance(value, bytes) and len(value) == merkle.HASH_SIZE else None


def descend(hashes: Sequence[bytes], size: int, root: bytes, proof: Claims) -> tuple[int, int]:
    """[first, last]: the first entry whose local hash differs from the signed tree lies
    in this range, the smallest the signed root and the server's proofs pin down.

    `hashes` are the leaf hashes recomputed from the downloaded data; their root differs
    from `root` (the caller checked). first == last names the entry exactly.
    """
    start, end, trusted = 0, size, root

    def local(a: int, b: int) -> bytes:
        return merkle.root_from_leaf_hashes(hashes[a:b])

    while end - start > 1:
        middle = start + (1 << ((end - start - 1).bit_length() - 1))
        left, right = local(start, middle), local(middle, end)
        right_claim = _claim(proof, start, size, (middle, end))
        if right_claim is not None and merkle.node_hash(left, right_claim) == trusted:
            start, trusted = middle, right_claim  # the left part is proven: go right
            continue
        left_claim = _claim(proof, middle, size, (start, middle))
        if left_claim is not None and merkle.node_hash(left_claim, right) == trusted:
            end, trusted = middle, left_claim  # the right part is proven, the left is bad
            continue
        if (
            left_claim is not None
            and right_claim is not None
            and merkle.node_hash(left_claim, right_claim) == trusted
        ):
            if left != left_claim:
                end, trusted = middle, left_claim
            else:
                start, trusted = middle, right_claim
            continue
        break  # the server's hashes contradict the trusted node: no proof reaches further
    return start, end - 1


def settle(first: int, last: int, verdict: LeafVerdict) -> tuple[int, int]:
    """Narrow [first, last] with per-entry evidence: skip entries proven good; stop at one
    proven bad (exact) or at one that cannot be told (the range from there on)."""
    for index in range(first, last + 1):
        found = verdict(index)
        if found is False:
            return index, index
        if found is None:
            return index, last
    return first, last
