"""The outside verifier's check of one signed checkpoint: its signature, every entry it
covers, its root, its consistency with the checkpoint seen before, proofs and the scores.

These are the steps 1 to 5 of p2pbank.audit.verify, in that order: each later step needs
the leaf hashes the earlier ones recomputed, and none may trust what the server stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from p2pbank.audit import merkle
from p2pbank.audit.note import Checkpoint, NoteError, Verifier, open_checkpoint
from p2pbank.audit.replay import LogEvent, replay
from p2pbank.audit.verify_entries import download, entry_timing, parse_entry
from p2pbank.audit.verify_proofs import (
    check_previous,
    disowned,
    first_bad_range,
    leaf_verdicts,
    spot_check,
    usable_leaves,
)
from p2pbank.audit.verify_report import DEFAULT_MAX_MERGE_DELAY, Problem, Report
from p2pbank.audit.verify_source import LogSource, SourceError, b64

DEFAULT_PROOFS = 64


def verify_log(
    source: LogSource,
    verifier: Verifier,
    *,
    previous: Checkpoint | None = None,
    previous_leaves: Sequence[bytes] | None = None,
    origin: str | None = None,
    proofs: int = DEFAULT_PROOFS,
    max_merge_delay: timedelta = DEFAULT_MAX_MERGE_DELAY,
    contents: bool = False,
) -> Report:
    """Steps 1 to 5 of p2pbank.audit.verify against one source; never raises on bad data.

    `previous` is the checkpoint verified last time; `previous_leaves`, the leaf hashes
    verified then (optional), pinpoints any entry rewritten since, however thoroughly.
    `contents` collects every entry's content hash, to check promises against.
    """
    report = Report(max_merge_delay=max_merge_delay, contents={} if contents else None)
    checkpoint = _open(source, verifier, origin, report)
    if checkpoint is None:
        return report
    signatures = _read_entries(source, checkpoint.size, report)
    if signatures is None or len(report.leaf_hashes) < checkpoint.size:
        return report
    hashes, size, root = report.leaf_hashes, checkpoint.size, checkpoint.root_hash
    saved = usable_leaves(previous, previous_leaves)
    changed = next((i for i, (a, b) in enumerate(zip(saved, hashes, strict=False)) if a != b), None)
    root_ok = merkle.root_from_leaf_hashes(hashes) == root
    if root_ok:
        report.lines.append(f"entries: {size} downloaded; leaf hashes and root recomputed: OK")
    elif changed is None:
        verdict = leaf_verdicts(verifier, checkpoint.origin, hashes, signatures)
        first, last = first_bad_range(source, hashes, size, root, verdict)
        report.problems.append(disowned(first, last, "the signed checkpoint"))

    if previous is not None:
        check_previous(source, report, hashes, previous, checkpoint, root_ok, changed)

    if root_ok:
        spot_check(source, report, hashes, size, root, proofs)

    report.replay = replay(report.events)
    for difference in report.replay.differences:
        report.problems.append(Problem(str(difference), difference.index))
    return report


def _open(
    source: LogSource, verifier: Verifier, origin: str | None, report: Report
) -> Checkpoint | None:
    """The latest checkpoint if its signature verifies, else None with the problem noted."""
    try:
        report.note = source.checkpoint_note()
        checkpoint = open_checkpoint(report.note, verifier, origin)
    except SourceError as exc:
        report.unreadable = True
        report.problems.append(Problem(f"checkpoint: {exc}"))
        return None
    except NoteError as exc:
        report.problems.append(Problem(f"checkpoint: {exc}"))
        return None
    report.checkpoint = checkpoint
    report.lines.append(
        f"checkpoint: {checkpoint.origin}, {checkpoint.size} entries, "
        f"root {b64(checkpoint.root_hash)}, "
        f"signature by {verifier.name}+{verifier.key_id.hex()} OK"
    )
    return checkpoint


def _read_entries(source: LogSource, size: int, report: Report) -> dict[int, bytes] | None:
    """Download and check the signed entries; recomputed leaf hashes and events go into
    `report`, the leaf signatures served are returned (None if the log could not be read,
    and then the report keeps no leaf hashes, as nothing was verified)."""
    hashes: list[bytes] = []
    events: list[LogEvent] = []
    signatures: dict[int, bytes] = {}
    try:
        for entry in download(source, size, report):
            digest = merkle.leaf_hash(entry.data)
            hashes.append(digest)
            if entry.signature is not None:
                signatures[entry.index] = entry.signature
            if digest != entry.leaf_hash:
                report.problems.append(
                    Problem("the stored leaf hash differs from the entry's data", entry.index)
                )
            event, wrong = parse_entry(entry.index, entry.data)
            if wrong:
                report.problems.append(Problem(f"the entry {wrong}", entry.index))
            elif event is not None:
                events.append(event)
            entry_timing(report, entry, event)
    except SourceError as exc:
        report.unreadable = True
        report.problems.append(Problem(f"entries: {exc}"))
        return None
    report.entries_checked = len(hashes)
    report.leaf_hashes = hashes
    report.events = events
    return signatures
