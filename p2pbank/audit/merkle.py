"""Merkle tree hashing, proofs and their verification as RFC 9162 (CT v2) defines them.

Pure standard library. The tree is the one of RFC 6962/9162: leaf = SHA-256(0x00 || data),
node = SHA-256(0x01 || left || right), empty tree = SHA-256(""), and a tree of n > 1 leaves
splits at k, the largest power of two strictly below n. That split makes every left subtree
perfect, so a log can store perfect subtrees once and never rewrite them.

Proof generators read hashes through a `SubtreeHash` callable, `subtree_hash(start, end)`,
the root of leaves [start, end). A list of leaf hashes works directly (O(n) per proof); a
database answers the same calls from stored perfect nodes in O(log n) via
`subtree_hash_from_nodes`. `CompactRange` appends leaves in amortized O(1) and reports each
perfect node it completes, which is exactly what such a store needs to keep.

Verifiers never raise: a malformed proof, a wrong-sized hash or an out-of-range index is
simply a proof that does not verify.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import TypeGuard

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

SubtreeHash = Callable[[int, int], bytes]
"""subtree_hash(start, end) -> MTH of leaves [start, end); only tree nodes are asked for."""
NodeHash = Callable[[int, int], bytes]
"""node(level, index) -> root of the perfect subtree over leaves [index * 2**level, +2**level)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly less than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _as_hash(value: object) -> bytes | None:
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value)
        if len(value) == HASH_SIZE:
            return value
    return None


def _is_count(value: object) -> TypeGuard[int]:
    return type(value) is int and value >= 0


def _require_hash(value: object) -> bytes:
    checked = _as_hash(value)
    if checked is None:
        raise ValueError(f"expected a {HASH_SIZE}-byte hash, got {value!r:.80}")
    return checked


def _require_count(value: object, name: str) -> int:
    if not _is_count(value):
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return value


class CompactRange:
    """The roots of the perfect subtrees covering leaves [0, size), largest first.

    One root per set bit of `size`, so append is amortized O(1) and root() is O(log n).
    A store can resume from the roots it saved: CompactRange(size, roots).
    """

    __slots__ = ("_size", "_roots")

    def __init__(self, size: int = 0, roots: Iterable[bytes] = ()) -> None:
        self._size = _require_count(size, "size")
        self._roots = [_require_hash(r) for r in roots]
        if len(self._roots) != size.bit_count():
            raise ValueError(f"a range of {size} leaves has {size.bit_count()} roots")

    @property
    def size(self) -> int:
        return self._size

    @property
    def roots(self) -> tuple[bytes, ...]:
        return tuple(self._roots)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; return the perfect nodes it completes as (level, index, hash).

        The first is the leaf itself at level 0; a store that keeps them all can answer
        `subtree_hash_from_nodes` lookups.
        """
        current = _require_hash(leaf)
        index = self._size
        completed = [(0, index, current)]
        level = 0
        # Each set low bit of the old size is a waiting sibling of the same height.
        while (index >> level) & 1:
            current = node_hash(self._roots.pop(), current)
            level += 1
            completed.append((level, index >> level, current))
        self._roots.append(current)
        self._size += 1
        return completed

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """MTH of the leaves so far: the perfect roots folded right to left."""
        if not self._roots:
            return EMPTY_ROOT
        result = self._roots[-1]
        for left in reversed(self._roots[:-1]):
            result = node_hash(left, result)
        return result


def root_from_leaf_hashes(hashes: Iterable[bytes]) -> bytes:
    """MTH(D[n]) from the leaf hashes, in one pass without recursion."""
    compact = CompactRange()
    compact.extend(hashes)
    return compact.root()


def subtree_hash_from_nodes(node: NodeHash) -> SubtreeHash:
    """Build a `SubtreeHash` on top of stored perfect nodes, O(log n) lookups per call.

    A tree node [start, end) is its perfect parts, sizes taken from the binary digits of
    end - start, largest first, folded right to left.
    """

    def subtree_hash(start: int, end: int) -> bytes:
        if not 0 <= start < end:
            raise ValueError(f"empty or negative range [{start}, {end})")
        parts = []
        position, remaining = start, end - start
        while remaining:
            level = remaining.bit_length() - 1
            if position & ((1 << level) - 1):
                raise ValueError(f"[{start}, {end}) is not a node of any Merkle tree")
            parts.append(_require_hash(node(level, position >> level)))
            position += 1 << level
            remaining -= 1 << level
        result = parts[-1]
        for left in reversed(parts[:-1]):
            result = node_hash(left, result)
        return result

    return subtree_hash


def _source(source: Sequence[bytes] | SubtreeHash, size: int) -> SubtreeHash:
    if callable(source):
        return source
    if size > len(source):
        raise ValueError(f"size {size} exceeds the {len(source)} leaf hashes given")
    return lambda start, end: root_from_leaf_hashes(source[start:end])


def inclusion_proof(source: Sequence[bytes] | SubtreeHash, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, ordered from the leaf up to the root."""
    _require_count(index, "index")
    _require_count(size, "size")
    if index >= size:
        raise ValueError(f"index {index} is not in a tree of {size} leaves")
    subtree = _source(source, size)
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:  # walk down from the root, taking the sibling at each level
        middle = start + _split(end - start)
        if index < middle:
            path.append(subtree(middle, end))
            end = middle
        else:
            path.append(subtree(start, middle))
            start = middle
    path.reverse()
    return path


def consistency_proof(
    source: Sequence[bytes] | SubtreeHash, old_size: int, new_size: int
) -> list[bytes]:
    """PROOF(old_size, D[new_size]) of RFC 9162 §2.1.4.1; empty if old_size is 0 or new_size."""
    _require_count(old_size, "old_size")
    _require_count(new_size, "new_size")
    if old_size > new_size:
        raise ValueError(f"old_size {old_size} is larger than new_size {new_size}")
    if old_size in (0, new_size):
        return []
    subtree = _source(source, new_size)
    path: list[bytes] = []
    start, end = 0, new_size
    whole_old_tree = True  # the RFC's flag b: is [start, end) still the old tree's root path?
    while old_size - start != end - start:  # SUBPROOF(m, D[start:end], b) with m = old - start
        middle = start + _split(end - start)
        if old_size <= middle:
            path.append(subtree(middle, end))
            end = middle
        else:
            path.append(subtree(start, middle))
            start = middle
            whole_old_tree = False
    if not whole_old_tree:
        path.append(subtree(start, end))
    path.reverse()
    return path


def _as_path(proof: object) -> list[bytes] | None:
    if not isinstance(proof, list | tuple):
        return None
    path = [h for h in map(_as_hash, proof) if h is not None]
    return path if len(path) == len(proof) else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does `proof` show leaf hash `leaf` at `index` of tree `root`?"""
    leaf_b, root_b, path = _as_hash(leaf), _as_hash(root), _as_path(proof)
    if leaf_b is None or root_b is None or path is None:
        return False
    if not (_is_count(index) and _is_count(size)) or index >= size:  # step 1
        return False
    fn, sn = index, size - 1  # step 2
    r = leaf_b  # step 3
    for p in path:  # step 4
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root_b  # step 5


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree `new_root` an append-only extension of `old_root`?

    The RFC's algorithm covers 0 < old_size < new_size. Outside it: equal sizes prove with an
    empty proof and equal roots; the empty tree (old_root = SHA-256("")) with an empty proof
    is consistent with every tree.
    """
    first_hash, second_hash, path = _as_hash(old_root), _as_hash(new_root), _as_path(proof)
    if first_hash is None or second_hash is None or path is None:
        return False
    if not (_is_count(old_size) and _is_count(new_size)) or old_size > new_size:
        return False
    if old_size == new_size:
        return not path and first_hash == second_hash and (old_size > 0 or first_hash == EMPTY_ROOT)
    if old_size == 0:
        return not path and first_hash == EMPTY_ROOT
    if not path:  # step 1
        return False
    if old_size & (old_size - 1) == 0:  # step 2
        path.insert(0, first_hash)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_hash and sr == second_hash and sn == 0  # step 7
