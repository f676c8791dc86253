"""Naming the first bad entry exactly (review finding 15): the walk down from the signed
root (p2pbank.audit.locate), signed leaves, and how problems with ranges are ordered.

`RowLog` plays a database whose leaf rows (data and stored leaf hash) were rewritten while
the stored nodes above them stayed as they were: the reviewer's attack, which made the old
binary search name entry 4 for a rewritten entry 5.
"""

from __future__ import annotations

import pytest

from p2pbank.audit import merkle
from p2pbank.audit.locate import descend, settle
from p2pbank.audit.tail import check_tail
from p2pbank.audit.verify import Problem, first_bad, verify_log
from tests.support.audit import LIST_SIGNER as SIGNER
from tests.support.audit import ListLog, leaf


class RowLog(ListLog):
    """Subtrees of two or more entries come from the hashes as they were at signing."""

    def sign(self):
        checkpoint = super().sign()
        self.nodes = list(self.stored)
        return checkpoint

    def _subtree(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self.stored[start]
        return merkle.root_from_leaf_hashes(self.nodes[start:end])


def rewrite_row(log: ListLog, bad: int) -> None:
    log.data[bad] = leaf(bad, changed=True)
    log.stored[bad] = merkle.leaf_hash(log.data[bad])


SIZES = (12, 13)
POSITIONS = [(size, bad) for size in SIZES for bad in (0, 1, 4, 5, size // 2, size - 2, size - 1)]


@pytest.mark.parametrize(("size", "bad"), POSITIONS)
def test_a_rewritten_row_is_named_exactly_with_signed_leaves(size, bad):
    log = RowLog(size, signed_leaves=True)
    log.sign()
    rewrite_row(log, bad)
    report = verify_log(log, SIGNER.verifier)
    assert report.first_bad_index == bad, report.summary()
    assert report.summary()[-1] == f"RESULT: FAILED - first bad index {bad}"


@pytest.mark.parametrize(("size", "bad"), POSITIONS)
def test_without_signed_leaves_the_walk_stops_at_the_pair_the_tree_fixes(size, bad):
    # The signed tree fixes only the combined hash of the entry and its sibling subtree
    # (another entry, or for an unpaired newest entry the subtree before it): the verifier
    # names that range, which holds the rewritten entry, and never an entry before it.
    log = RowLog(size)
    log.sign()
    rewrite_row(log, bad)
    report = verify_log(log, SIGNER.verifier)
    assert first_bad(report.problems) == parent_range(size, bad), report.summary()
    assert report.first_bad_index is None


def parent_range(size: int, index: int) -> tuple[int, int]:
    """The entries under the lowest node of the tree with entry `index` as a child."""
    start, end = 0, size
    while True:
        middle = start + (1 << ((end - start - 1).bit_length() - 1))
        child = (start, middle) if index < middle else (middle, end)
        if child[1] - child[0] == 1:
            return start, end - 1
        start, end = child


@pytest.mark.parametrize("bad", [0, 6, 12])
def test_a_fully_rewritten_tree_is_named_exactly_with_signed_leaves(bad):
    log = ListLog(13, signed_leaves=True)  # every hash above the entry rewritten too
    log.sign()
    rewrite_row(log, bad)
    assert verify_log(log, SIGNER.verifier).first_bad_index == bad


@pytest.mark.parametrize("size", [1, 2, 3, 8, 13])
def test_the_walk_finds_every_position_when_the_server_is_honest(size):
    for bad in range(size):
        log = ListLog(size)
        checkpoint = log.sign()
        local = list(log.stored)
        local[bad] = merkle.leaf_hash(b"other")
        assert descend(local, size, checkpoint.root_hash, log.inclusion_proof) == (bad, bad)


def test_a_server_that_answers_no_proofs_leaves_the_whole_range():
    log = ListLog(8)
    checkpoint = log.sign()
    local = list(log.stored)
    local[3] = bytes(32)
    assert descend(local, 8, checkpoint.root_hash, lambda index, size: None) == (0, 7)


def test_settle_skips_proven_entries_and_stops_at_a_bad_or_unknown_one():
    verdicts = {4: True, 5: False, 6: None}
    assert settle(4, 7, verdicts.get) == (5, 5)
    assert settle(4, 7, {4: True, 5: None}.get) == (5, 7)
    assert settle(4, 5, {4: True, 5: True}.get) == (4, 5)  # nothing settles it


def test_the_first_bad_entry_among_exact_and_ranged_problems():
    assert first_bad([]) is None
    assert first_bad([Problem("x")]) is None
    assert first_bad([Problem("a", 5), Problem("b", 4, 5)]) == (5, 5)  # explained
    assert first_bad([Problem("a", 9), Problem("b", 4, 5)]) == (4, 5)  # comes first
    assert first_bad([Problem("b", 4, 7), Problem("c", 2, 3)]) == (2, 3)


def test_entries_past_the_checkpoint_are_checked_or_declared_unprovable():
    log = ListLog(10)
    log.sign()
    log.append(3)  # 10, 11, 12: not yet in any checkpoint
    report = verify_log(log, SIGNER.verifier)
    assert report.ok
    events, end = check_tail(log, report)
    assert (len(events), end) == (3, 13)
    assert "entries 10..12: past the signed checkpoint of 10" in report.lines[-1]
    assert "provable only once a checkpoint includes them" in report.lines[-1]

    log.data[12] = leaf(12, changed=True)  # the newest entry's data, edited
    report = verify_log(log, SIGNER.verifier)
    check_tail(log, report)
    assert report.first_bad_index == 12
    assert "past the signed checkpoint" in str(report.problems[0])
