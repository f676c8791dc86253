"""The outside verifier's proofs: inclusion and consistency proofs checked against the
recomputed leaves, and the first bad entry located when the signed root disagrees.

A proof the local leaves contradict names the server's wrong stored node by the entries
it covers; a root the local leaves contradict is walked down (p2pbank.audit.locate).
"""

from __future__ import annotations

from collections.abc import Sequence

from p2pbank.audit import merkle
from p2pbank.audit.leaf_signatures import leaf_verdict
from p2pbank.audit.locate import LeafVerdict, descend, settle
from p2pbank.audit.note import Checkpoint, Verifier
from p2pbank.audit.verify_report import Problem
from p2pbank.audit.verify_source import LogSource, SourceError


def first_bad_range(
    source: LogSource,
    hashes: Sequence[bytes],
    size: int,
    root: bytes,
    verdict: LeafVerdict | None = None,
) -> tuple[int, int]:
    """(first, last): the first local leaf the signed tree (size, root) disowns is one of
    first..last, walking down from the signed root (p2pbank.audit.locate); `verdict`, per
    entry evidence such as signed leaves, narrows a range the tree cannot."""
    proofs: dict[tuple[int, int], list[bytes] | None] = {}

    def proof(index: int, tree_size: int) -> list[bytes] | None:
        if (index, tree_size) not in proofs:
            try:
                proofs[(index, tree_size)] = source.inclusion_proof(index, tree_size)
            except SourceError:
                proofs[(index, tree_size)] = None
        return proofs[(index, tree_size)]

    first, last = descend(hashes, size, root, proof)
    if first != last and verdict is not None:
        first, last = settle(first, last, verdict)
    return first, last


def leaf_verdicts(
    verifier: Verifier, origin: str, hashes: Sequence[bytes], signatures: dict[int, bytes]
) -> LeafVerdict:
    """Per entry: does the log's signature of it verify over the recomputed leaf hash?"""

    def verdict(index: int) -> bool | None:
        return leaf_verdict(verifier, origin, index, hashes[index], signatures.get(index))

    return verdict


def first_divergence(
    source: LogSource, hashes: Sequence[bytes], size: int, root: bytes, known_good: int = 0
) -> int:
    """The first index the signed tree disowns (where the range starts if it is not exact)."""
    return first_bad_range(source, hashes, size, root)[0]


def disowned(first: int, last: int, what: str) -> Problem:
    if first == last:
        return Problem(f"this entry differs from the one {what} holds", first)
    return Problem(
        f"one of these entries differs from {what}; the signed tree fixes only their "
        "combined hash (their stored hashes were rewritten too)",
        first,
        last,
    )


def _expected_with_ranges(hashes: Sequence[bytes], build) -> tuple[list[bytes], list[tuple]]:
    ranges: list[tuple[int, int]] = []

    def local(start: int, end: int) -> bytes:
        ranges.append((start, end))
        return merkle.root_from_leaf_hashes(hashes[start:end])

    expected = build(local)
    ranges.reverse()  # the proof generators collect from the root down, then reverse
    return expected, ranges


def wrong_node(hashes: Sequence[bytes], served: Sequence[bytes], build, what: str) -> Problem:
    """Compare a served proof with the one the local leaves give; name the wrong node."""
    expected, ranges = _expected_with_ranges(hashes, build)
    if len(served) != len(expected):
        return Problem(f"{what} has {len(served)} hashes, {len(expected)} expected")
    for got, want, (start, end) in zip(served, expected, ranges, strict=True):
        if got != want:
            return Problem(
                f"the log's stored hash of entries [{start}, {end}) is wrong ({what})", start
            )
    return Problem(f"{what} does not verify")


def spread(size: int, count: int) -> list[int]:
    """Up to `count` indices spread evenly over [0, size), first and last included."""
    if size <= 0 or count <= 0:
        return []
    if size <= count:
        return list(range(size))
    if count == 1:
        return [size - 1]
    return sorted({round(k * (size - 1) / (count - 1)) for k in range(count)})


# --- the verification -------------------------------------------------------------------


def usable_leaves(previous: Checkpoint | None, leaves: Sequence[bytes] | None) -> Sequence[bytes]:
    """The saved leaf hashes if they really are the previous checkpoint's tree, else ()."""
    if previous is None or leaves is None or len(leaves) != previous.size:
        return ()
    if merkle.root_from_leaf_hashes(leaves) != previous.root_hash:
        return ()
    return leaves


def check_previous(source, report, hashes, previous, checkpoint, root_ok, changed):
    old, new = previous.size, checkpoint.size
    if previous.origin != checkpoint.origin:
        report.problems.append(
            Problem(f"origin changed from {previous.origin!r} to {checkpoint.origin!r}")
        )
        return
    if new < old:
        report.problems.append(Problem(f"the log shrank from {old} to {new} entries"))
        return
    if changed is not None or merkle.root_from_leaf_hashes(hashes[:old]) != previous.root_hash:
        bad = (
            changed
            if changed is not None
            else first_divergence(source, hashes, old, previous.root_hash)
        )
        report.problems.append(
            Problem(f"the entry changed since the checkpoint of {old} entries verified before", bad)
        )
        return
    try:
        proof = source.consistency_proof(old, new)
    except SourceError as exc:
        report.problems.append(Problem(f"consistency proof {old} -> {new}: {exc}"))
        return
    report.proofs_checked += 1
    if merkle.verify_consistency(old, new, previous.root_hash, checkpoint.root_hash, proof):
        report.lines.append(f"consistency with the checkpoint of {old} entries seen before: OK")
    elif root_ok:
        report.problems.append(
            wrong_node(
                hashes,
                proof,
                lambda local: merkle.consistency_proof(local, old, new),
                f"consistency proof {old} -> {new}",
            )
        )
    else:
        report.problems.append(Problem(f"consistency proof {old} -> {new} does not verify"))


def spot_check(source, report, hashes, size, root, proofs):
    indices = spread(size, proofs)
    for index in indices:
        try:
            proof = source.inclusion_proof(index, size)
        except SourceError as exc:
            report.problems.append(Problem(f"inclusion proof: {exc}", index))
            continue
        report.proofs_checked += 1
        if not merkle.verify_inclusion(hashes[index], index, size, proof, root):
            report.problems.append(
                wrong_node(
                    hashes,
                    proof,
                    lambda local, i=index: merkle.inclusion_proof(local, i, size),
                    f"inclusion proof of entry {index}",
                )
            )
    if indices:
        report.lines.append(f"inclusion proofs: {len(indices)} checked")
