"""The entries past the signed checkpoint: checked as far as anything can check them.

No signature covers them yet, so nothing proves them; but each entry's data must still hash
to the leaf hash the log stores for it, be canonical JSON and be numbered in sequence. An
entry whose data was edited is named exactly; one rewritten together with its stored leaf
hash cannot be told until a checkpoint covers it, and the report says so in as many words.
"""

from __future__ import annotations

from p2pbank.audit import merkle
from p2pbank.audit.replay import LogEvent
from p2pbank.audit.verify import (
    PAGE,
    LogSource,
    Problem,
    Report,
    SourceError,
    entry_timing,
    parse_entry,
)


def check_tail(
    source: LogSource, report: Report, start: int | None = None
) -> tuple[list[LogEvent], int]:
    """Download and check the entries from `start` (default: the checkpoint's size) to the
    end of the log as served: (their events, where the log ended). Adds problems and a
    line to `report`."""
    if report.checkpoint is None:
        return [], 0
    first = report.checkpoint.size if start is None else start
    position, events = first, []
    while True:
        try:
            page = source.entries(position, position + PAGE)
        except SourceError as exc:
            report.problems.append(Problem(f"entries past the signed checkpoint: {exc}"))
            break
        if not page:
            break
        for entry in page:
            if entry.index != position:
                report.problems.append(
                    Problem(f"entry {position} expected, the log served {entry.index}", position)
                )
                return events, position
            if merkle.leaf_hash(entry.data) != entry.leaf_hash:
                report.problems.append(
                    Problem(
                        "the stored leaf hash differs from the entry's data (past the signed "
                        "checkpoint)",
                        position,
                    )
                )
            event, wrong = parse_entry(position, entry.data)
            if wrong:
                report.problems.append(Problem(f"the entry {wrong}", position))
            elif event is not None:
                events.append(event)
            entry_timing(report, entry, event)
            position += 1
    if position > first:
        report.lines.append(
            f"entries {first}..{position - 1}: past the signed checkpoint of "
            f"{report.checkpoint.size}; data matches the stored leaf hashes, but no signature "
            "covers them yet: a rewrite of data and leaf hash together is provable only once "
            "a checkpoint includes them"
        )
    return events, position
