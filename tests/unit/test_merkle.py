"""Unit tests for p2pbank.audit.merkle.

Three independent checks: published test vectors, a brute-force recomputation written
straight from the RFC's recursive definitions, and mutated proofs that must be refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from p2pbank.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    subtree_hash_from_nodes,
    verify_consistency,
    verify_inclusion,
)

# --- published vectors --------------------------------------------------------------------
# The RFC 6962 test tree of 8 leaves as published by the transparency-dev project
# (repository transparency-dev/merkle, files testonly/constants.go and proof/verify_test.go;
# the same tree Certificate Transparency's own tests use). Only the hex values are copied.
# The source numbers leaves from 1 in its inclusion vectors; indices here are 0-based.

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# (level, index) -> hash of the perfect subtree over leaves [index * 2**level, +2**level).
NODE_HASHES = {
    (0, 0): "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    (0, 1): "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    (0, 2): "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    (0, 3): "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    (0, 4): "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    (0, 5): "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    (0, 6): "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    (0, 7): "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    (1, 0): "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    (1, 1): "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    (1, 2): "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    (1, 3): "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    (2, 0): "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    (2, 1): "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    (3, 0): "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

ROOTS_BY_SIZE = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# The compact range (perfect-subtree roots, largest first) after each size, by node key.
COMPACT_BY_SIZE = [
    [],
    [(0, 0)],
    [(1, 0)],
    [(1, 0), (0, 2)],
    [(2, 0)],
    [(2, 0), (0, 4)],
    [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)],
    [(3, 0)],
]

INCLUSION_VECTORS = [  # (index, size, path)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

CONSISTENCY_VECTORS = [  # (old_size, new_size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

VECTOR_LEAVES = [leaf_hash(d) for d in LEAF_INPUTS]


def _hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def _store(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """What a database would keep: every perfect node CompactRange reports."""
    compact = CompactRange()
    nodes: dict[tuple[int, int], bytes] = {}
    for leaf in leaves:
        for level, index, node in compact.append(leaf):
            assert (level, index) not in nodes, "a node was reported twice"
            nodes[(level, index)] = node
    return nodes


def _node_source(leaves: list[bytes], size: int) -> Callable[[int, int], bytes]:
    """A subtree source backed only by the stored nodes of the first `size` leaves."""
    nodes = _store(leaves[:size])
    return subtree_hash_from_nodes(lambda level, index: nodes[(level, index)])


def test_leaf_hashes_match_the_vectors() -> None:
    assert _hexes(VECTOR_LEAVES) == [NODE_HASHES[(0, i)] for i in range(8)]


def test_empty_tree() -> None:
    assert EMPTY_ROOT.hex() == ROOTS_BY_SIZE[0]
    assert root_from_leaf_hashes([]) == EMPTY_ROOT == CompactRange().root()


@pytest.mark.parametrize("size", range(9))
def test_roots_at_every_size(size: int) -> None:
    assert root_from_leaf_hashes(VECTOR_LEAVES[:size]).hex() == ROOTS_BY_SIZE[size]


def test_compact_range_reports_every_node_and_keeps_the_published_roots() -> None:
    compact = CompactRange()
    reported: dict[tuple[int, int], str] = {}
    for size, leaf in enumerate(VECTOR_LEAVES, start=1):
        for level, index, node in compact.append(leaf):
            reported[(level, index)] = node.hex()
        assert compact.size == size
        assert _hexes(list(compact.roots)) == [NODE_HASHES[k] for k in COMPACT_BY_SIZE[size]]
        assert compact.root().hex() == ROOTS_BY_SIZE[size]
    assert reported == NODE_HASHES


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_VECTORS)
def test_inclusion_vectors(index: int, size: int, path: list[str]) -> None:
    assert _hexes(inclusion_proof(VECTOR_LEAVES, index, size)) == path
    assert _hexes(inclusion_proof(_node_source(VECTOR_LEAVES, size), index, size)) == path
    root = bytes.fromhex(ROOTS_BY_SIZE[size])
    proof = [bytes.fromhex(h) for h in path]
    assert verify_inclusion(VECTOR_LEAVES[index], index, size, proof, root) is True
    assert not _accepted_inclusion_mutants(VECTOR_LEAVES, index, size, proof, root)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY_VECTORS)
def test_consistency_vectors(old: int, new: int, path: list[str]) -> None:
    assert _hexes(consistency_proof(VECTOR_LEAVES, old, new)) == path
    assert _hexes(consistency_proof(_node_source(VECTOR_LEAVES, new), old, new)) == path
    old_root, new_root = bytes.fromhex(ROOTS_BY_SIZE[old]), bytes.fromhex(ROOTS_BY_SIZE[new])
    proof = [bytes.fromhex(h) for h in path]
    assert verify_consistency(old, new, old_root, new_root, proof) is True
    if old != new:
        assert not _accepted_consistency_mutants(VECTOR_LEAVES, old, new, proof)


# --- brute force straight from the RFC's definitions ---------------------------------------


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while 2 * k < n:
        k *= 2
    return k


@cache
def naive_mth(d: tuple[bytes, ...]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1, on raw leaf data."""
    n = len(d)
    if n == 0:
        return _sha(b"")
    if n == 1:
        return _sha(b"\x00" + d[0])
    k = _k(n)
    return _sha(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:]))


def naive_path(m: int, d: tuple[bytes, ...]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return naive_path(m, d[:k]) + [naive_mth(d[k:])]
    return naive_path(m - k, d[k:]) + [naive_mth(d[:k])]


def naive_subproof(m: int, d: tuple[bytes, ...], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [naive_mth(d)]
    k = _k(n)
    if m <= k:
        return naive_subproof(m, d[:k], b) + [naive_mth(d[k:])]
    return naive_subproof(m - k, d[k:], False) + [naive_mth(d[:k])]


DATA = tuple(b"entry %d" % i for i in range(64))
LEAVES = [leaf_hash(d) for d in DATA]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _flip(h: bytes, bit: int) -> bytes:
    return h[: bit // 8] + bytes([h[bit // 8] ^ (1 << (bit % 8))]) + h[bit // 8 + 1 :]


def _path_mutants(proof: list[bytes], extra: bytes) -> Iterator[tuple[str, list[bytes]]]:
    for i, element in enumerate(proof):
        yield f"bit 3 of proof[{i}] flipped", [*proof[:i], _flip(element, 3), *proof[i + 1 :]]
        yield f"bit 255 of proof[{i}] flipped", [*proof[:i], _flip(element, 255), *proof[i + 1 :]]
        yield f"proof[{i}] removed", proof[:i] + proof[i + 1 :]
        yield f"hash inserted before proof[{i}]", [*proof[:i], SOME_HASH, *proof[i:]]
    yield "hash appended", [*proof, SOME_HASH]
    yield "root appended", [*proof, extra]
    yield "root prepended", [extra, *proof]
    if len(proof) > 1 and proof != proof[::-1]:
        yield "proof reversed", proof[::-1]


def _accepted_inclusion_mutants(
    leaves: list[bytes], index: int, size: int, proof: list[bytes], root: bytes
) -> list[str]:
    """Every mutation of a valid inclusion proof that still verifies (should be none)."""
    leaf = leaves[index]
    other_root = root_from_leaf_hashes(leaves[: size - 1]) if size > 1 else SOME_HASH
    probes = [
        ("index - 1", leaf, index - 1, size, proof, root),
        ("index + 1", leaf, index + 1, size, proof, root),
        ("size * 2", leaf, index, size * 2, proof, root),
        ("neighbour's leaf", leaves[index ^ 1], index, size, proof, root),
        ("leaf bit flipped", _flip(leaf, 0), index, size, proof, root),
        ("root bit flipped", leaf, index, size, proof, _flip(root, 7)),
        ("root of size - 1", leaf, index, size, proof, other_root),
        ("empty-tree root", leaf, index, size, proof, EMPTY_ROOT),
    ]
    probes += [(desc, leaf, index, size, p, root) for desc, p in _path_mutants(proof, root)]
    return [desc for desc, *args in probes if verify_inclusion(*args)]


def _accepted_consistency_mutants(
    leaves: list[bytes], old: int, new: int, proof: list[bytes]
) -> list[str]:
    """Every mutation of a valid consistency proof (old < new) that still verifies."""
    r1, r2 = root_from_leaf_hashes(leaves[:old]), root_from_leaf_hashes(leaves[:new])
    probes = [
        ("old - 1", old - 1, new, r1, r2, proof),
        ("old + 1", old + 1, new, r1, r2, proof),
        ("new * 2", old, new * 2, r1, r2, proof),
        ("old * 2", old * 2, new, r1, r2, proof),
        ("swapped roots", old, new, r2, r1, proof),
        ("old root bit flipped", old, new, _flip(r1, 9), r2, proof),
        ("new root bit flipped", old, new, r1, _flip(r2, 9), proof),
        ("both roots old", old, new, r1, r1, proof),
        ("empty proof", old, new, r1, r2, []),
    ]
    for extra in (r1, r2):
        probes += [(desc, old, new, r1, r2, p) for desc, p in _path_mutants(proof, extra)]
    return [desc for desc, *args in probes if verify_consistency(*args)]


def test_brute_force_oracle_agrees_with_the_published_tree() -> None:
    """The naive oracle is checked too, so the comparisons below mean something."""
    d = tuple(LEAF_INPUTS)
    assert [naive_mth(d[:n]).hex() for n in range(9)] == ROOTS_BY_SIZE
    for index, size, path in INCLUSION_VECTORS:
        assert _hexes(naive_path(index, d[:size])) == path
    for old, new, path in CONSISTENCY_VECTORS:
        assert old == new or _hexes(naive_subproof(old, d[:new], True)) == path


@pytest.mark.parametrize("size", range(1, 65))
def test_inclusion_against_brute_force(size: int) -> None:
    d = DATA[:size]
    root = naive_mth(d)
    assert root_from_leaf_hashes(LEAVES[:size]) == root
    stored = _node_source(LEAVES, size)
    for index in range(size):
        expected = naive_path(index, d)
        assert inclusion_proof(LEAVES, index, size) == expected
        assert inclusion_proof(stored, index, size) == expected
        assert verify_inclusion(LEAVES[index], index, size, expected, root) is True
        assert _accepted_inclusion_mutants(LEAVES, index, size, expected, root) == []


@pytest.mark.parametrize("new", range(1, 65))
def test_consistency_against_brute_force(new: int) -> None:
    d = DATA[:new]
    new_root = naive_mth(d)
    stored = _node_source(LEAVES, new)
    for old in range(new + 1):
        expected = naive_subproof(old, d, True) if 0 < old < new else []
        assert consistency_proof(LEAVES, old, new) == expected
        assert consistency_proof(stored, old, new) == expected
        assert verify_consistency(old, new, naive_mth(d[:old]), new_root, expected) is True
        if 0 < old < new:
            assert _accepted_consistency_mutants(LEAVES, old, new, expected) == []


# --- the storage-facing design ------------------------------------------------------------


def test_stored_nodes_answer_proofs_in_logarithmic_lookups() -> None:
    size = 5_000
    leaves = [leaf_hash(b"%d" % i) for i in range(size)]
    nodes = _store(leaves)
    lookups: list[tuple[int, int]] = []

    def node(level: int, index: int) -> bytes:
        lookups.append((level, index))
        return nodes[(level, index)]

    source = subtree_hash_from_nodes(node)
    root = root_from_leaf_hashes(leaves)
    bound = 2 * size.bit_length() + 2
    for index in (0, 1, 2_047, 2_048, 4_095, 4_096, 4_999):
        lookups.clear()
        proof = inclusion_proof(source, index, size)
        assert len(lookups) <= bound
        assert verify_inclusion(leaves[index], index, size, proof, root)
    for old in (1, 2, 1_000, 2_048, 3_333, 4_998):
        lookups.clear()
        proof = consistency_proof(source, old, size)
        assert len(lookups) <= bound
        old_root = root_from_leaf_hashes(leaves[:old])
        assert verify_consistency(old, size, old_root, root, proof)


def test_generators_only_ask_for_ranges_inside_the_tree() -> None:
    asked: list[tuple[int, int]] = []
    list_source = LEAVES[:37]

    def source(start: int, end: int) -> bytes:
        asked.append((start, end))
        return root_from_leaf_hashes(list_source[start:end])

    for index in range(37):
        inclusion_proof(source, index, 37)
    for old in range(38):
        consistency_proof(source, old, 37)
    assert asked and all(0 <= start < end <= 37 for start, end in asked)


def test_subtree_hash_from_nodes_refuses_ranges_that_are_not_tree_nodes() -> None:
    nodes = _store(LEAVES[:8])
    source = subtree_hash_from_nodes(lambda level, index: nodes[(level, index)])
    assert source(0, 8) == root_from_leaf_hashes(LEAVES[:8])
    assert source(4, 7) == root_from_leaf_hashes(LEAVES[4:7])
    for start, end in ((1, 3), (3, 5), (2, 2), (5, 4), (-1, 1)):
        with pytest.raises(ValueError):
            source(start, end)


def test_compact_range_resumes_from_saved_roots() -> None:
    whole = CompactRange()
    whole.extend(LEAVES[:50])
    resumed = CompactRange(37, _compact(LEAVES[:37]).roots)
    resumed.extend(LEAVES[37:50])
    assert resumed.size == 50 and resumed.roots == whole.roots and resumed.root() == whole.root()
    assert whole.root() == naive_mth(DATA[:50])


def _compact(leaves: list[bytes]) -> CompactRange:
    compact = CompactRange()
    compact.extend(leaves)
    return compact


def test_compact_range_append_is_amortized_constant() -> None:
    compact = CompactRange()
    reported = sum(len(compact.append(leaf)) for leaf in LEAVES)
    # n leaves complete exactly 2n - popcount(n) perfect nodes: fewer than 2 per append.
    assert reported == 2 * len(LEAVES) - len(LEAVES).bit_count()


@pytest.mark.parametrize(
    ("size", "roots"),
    [(3, [SOME_HASH]), (2, [SOME_HASH, SOME_HASH]), (0, [SOME_HASH]), (1, [b"short"]), (-1, [])],
)
def test_compact_range_refuses_inconsistent_state(size: int, roots: list[bytes]) -> None:
    with pytest.raises(ValueError):
        CompactRange(size, roots)


@pytest.mark.parametrize("leaf", [b"", b"x" * 31, b"x" * 33, "a" * 32, None])
def test_compact_range_refuses_values_that_are_not_hashes(leaf: object) -> None:
    with pytest.raises(ValueError):
        CompactRange().append(leaf)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (inclusion_proof, (8, 8)),
        (inclusion_proof, (0, 0)),
        (inclusion_proof, (-1, 8)),
        (inclusion_proof, (0, 9)),
        (inclusion_proof, (True, 8)),
        (consistency_proof, (5, 4)),
        (consistency_proof, (-1, 4)),
        (consistency_proof, (1, 9)),
        (consistency_proof, (1.0, 4)),
    ],
)
def test_generators_refuse_impossible_requests(call: Callable[..., object], args: tuple) -> None:
    with pytest.raises(ValueError):
        call(VECTOR_LEAVES, *args)


# --- verifiers: trivial cases and malformed input -----------------------------------------

ROOT8 = bytes.fromhex(ROOTS_BY_SIZE[8])
ROOT6 = bytes.fromhex(ROOTS_BY_SIZE[6])
PROOF_5_OF_8 = [bytes.fromhex(h) for h in INCLUSION_VECTORS[2][2]]
PROOF_6_TO_8 = [bytes.fromhex(h) for h in CONSISTENCY_VECTORS[2][2]]


def test_trivial_consistency_cases() -> None:
    r = bytes.fromhex(ROOTS_BY_SIZE[3])
    assert verify_consistency(3, 3, r, r, []) is True
    assert verify_consistency(3, 3, r, ROOT8, []) is False
    assert verify_consistency(3, 3, r, r, [r]) is False
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, []) is True
    assert verify_consistency(0, 0, r, r, []) is False
    assert verify_consistency(0, 8, EMPTY_ROOT, ROOT8, []) is True
    assert verify_consistency(0, 8, EMPTY_ROOT, ROOT8, [EMPTY_ROOT]) is False
    # Stricter than transparency-dev, which accepts any old root for size 0.
    assert verify_consistency(0, 8, r, ROOT8, []) is False
    assert verify_consistency(8, 6, ROOT8, ROOT6, PROOF_6_TO_8) is False
    assert verify_consistency(6, 8, ROOT6, ROOT8, []) is False


def test_single_leaf_tree() -> None:
    h = leaf_hash(b"data")
    assert verify_inclusion(h, 0, 1, [], h) is True
    assert verify_inclusion(h, 0, 1, [], SOME_HASH) is False
    assert verify_inclusion(b"", 0, 1, [], h) is False
    assert verify_inclusion(h, 0, 1, [], b"") is False


def test_verifiers_accept_bytes_like_values_from_a_database() -> None:
    leaf = memoryview(VECTOR_LEAVES[5])
    proof = (bytearray(PROOF_5_OF_8[0]), *PROOF_5_OF_8[1:])
    assert verify_inclusion(leaf, 5, 8, proof, memoryview(ROOT8)) is True  # type: ignore[arg-type]
    assert verify_consistency(6, 8, bytearray(ROOT6), ROOT8, tuple(PROOF_6_TO_8)) is True


BAD_COUNTS = [-1, -8, True, 1.0, 5.0, None, "5", 2**64]
BAD_HASHES = [None, b"", b"\x00" * 31, b"\x00" * 33, "00" * 32, 0, [b"\x00" * 32]]
BAD_PROOFS = [None, b"\x00" * 96, "abc", {}, 3, [None], [b"short"], ["00" * 32], [[]]]


@pytest.mark.parametrize("index", [*BAD_COUNTS, 8, 9])
def test_verify_inclusion_refuses_bad_index(index: object) -> None:
    assert verify_inclusion(VECTOR_LEAVES[5], index, 8, PROOF_5_OF_8, ROOT8) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [*BAD_COUNTS, 0, 5])
def test_verify_inclusion_refuses_bad_size(size: object) -> None:
    assert verify_inclusion(VECTOR_LEAVES[5], 5, size, PROOF_5_OF_8, ROOT8) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", BAD_HASHES)
def test_verify_inclusion_refuses_bad_hashes(bad: object) -> None:
    assert verify_inclusion(bad, 5, 8, PROOF_5_OF_8, ROOT8) is False  # type: ignore[arg-type]
    assert verify_inclusion(VECTOR_LEAVES[5], 5, 8, PROOF_5_OF_8, bad) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("proof", BAD_PROOFS)
def test_verify_inclusion_refuses_malformed_proofs(proof: object) -> None:
    assert verify_inclusion(VECTOR_LEAVES[5], 5, 8, proof, ROOT8) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("count", BAD_COUNTS)
def test_verify_consistency_refuses_bad_sizes(count: object) -> None:
    assert verify_consistency(count, 8, ROOT6, ROOT8, PROOF_6_TO_8) is False  # type: ignore[arg-type]
    assert verify_consistency(6, count, ROOT6, ROOT8, PROOF_6_TO_8) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", BAD_HASHES)
def test_verify_consistency_refuses_bad_hashes(bad: object) -> None:
    assert verify_consistency(6, 8, bad, ROOT8, PROOF_6_TO_8) is False  # type: ignore[arg-type]
    assert verify_consistency(6, 8, ROOT6, bad, PROOF_6_TO_8) is False  # type: ignore[arg-type]


@pytest.mark.parametrize("proof", BAD_PROOFS)
def test_verify_consistency_refuses_malformed_proofs(proof: object) -> None:
    assert verify_consistency(6, 8, ROOT6, ROOT8, proof) is False  # type: ignore[arg-type]


# --- properties ---------------------------------------------------------------------------

junk = st.one_of(
    st.none(),
    st.integers(),
    st.booleans(),
    st.floats(),
    st.text(max_size=4),
    st.binary(max_size=40),
    st.lists(st.binary(max_size=40), max_size=6),
    st.lists(st.binary(min_size=32, max_size=32), max_size=6),
)


@given(junk, junk, junk, junk, junk)
def test_verifiers_never_raise(a: object, b: object, c: object, d: object, e: object) -> None:
    assert verify_inclusion(a, b, c, d, e) in (True, False)  # type: ignore[arg-type]
    assert verify_consistency(a, b, c, d, e) in (True, False)  # type: ignore[arg-type]


@given(
    st.integers(min_value=0, max_value=2**40),
    st.integers(min_value=1, max_value=2**40),
    st.lists(st.binary(min_size=32, max_size=32), max_size=45),
)
def test_random_well_formed_proofs_are_refused(index: int, size: int, proof: list) -> None:
    assert verify_inclusion(VECTOR_LEAVES[5], index, size, proof, ROOT8) is False
    assert verify_consistency(min(index, size), size, ROOT6, ROOT8, proof) is False


@given(st.integers(min_value=1, max_value=300), st.data())
def test_random_trees_prove_and_verify(size: int, data: st.DataObject) -> None:
    leaves = [leaf_hash(b"leaf %d" % i) for i in range(size)]
    nodes = _store(leaves)
    stored = subtree_hash_from_nodes(lambda level, index: nodes[(level, index)])
    root = root_from_leaf_hashes(leaves)
    assert root == naive_mth(tuple(b"leaf %d" % i for i in range(size)))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    old = data.draw(st.integers(min_value=0, max_value=size))
    proof = inclusion_proof(stored, index, size)
    assert proof == inclusion_proof(leaves, index, size)
    assert verify_inclusion(leaves[index], index, size, proof, root)
    old_root = root_from_leaf_hashes(leaves[:old])
    consistency = consistency_proof(stored, old, size)
    assert consistency == consistency_proof(leaves, old, size)
    assert verify_consistency(old, size, old_root, root, consistency)
