"""The outside verifier's findings: problems, where they are, and the report it prints.

Every check appends to one Report, so the verdict and the first bad entry are decided in
one place whatever found the damage (the signed tree, the entries, proofs, the journal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from p2pbank.audit.journal import JournalCheck
from p2pbank.audit.note import Checkpoint
from p2pbank.audit.replay import LogEvent, ReplayResult

DEFAULT_MAX_MERGE_DELAY = timedelta(seconds=60)


@dataclass
class Problem:
    """What is wrong, and where: entry `index`, or one of the entries index..last when the
    evidence pins the damage down only to a range (`last` set)."""

    message: str
    index: int | None = None
    last: int | None = None

    def __str__(self) -> str:
        if self.index is None:
            return self.message
        if self.last is not None and self.last != self.index:
            return f"[entries {self.index}..{self.last}] {self.message}"
        return f"[entry {self.index}] {self.message}"


def first_bad(problems: Sequence[Problem]) -> tuple[int, int] | None:
    """(first, last): the first bad entry is one of first..last (first == last: exactly).

    An entry named exactly explains a range that contains it; a range that ends before the
    first exact entry comes first.
    """
    exact = min(
        (p.index for p in problems if p.index is not None and p.last in (None, p.index)),
        default=None,
    )
    earlier = [
        (p.index, p.last)
        for p in problems
        if p.index is not None
        and p.last not in (None, p.index)
        and (exact is None or p.last < exact)
    ]
    if earlier:
        return min(earlier)
    return None if exact is None else (exact, exact)


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    checkpoint: Checkpoint | None = None
    note: str = ""
    entries_checked: int = 0
    proofs_checked: int = 0
    replay: ReplayResult | None = None
    lines: list[str] = field(default_factory=list)
    unreadable: bool = False  # the log could not be read, so nothing could be checked
    leaf_hashes: list[bytes] = field(default_factory=list, repr=False)  # as recomputed
    events: list[LogEvent] = field(default_factory=list, repr=False)  # the signed entries
    journal: JournalCheck | None = None  # journal entries against their leaves, if checked
    max_merge_delay: timedelta = DEFAULT_MAX_MERGE_DELAY
    checked_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # content hash -> (index, integrated_at) of every entry read, when promises are checked
    contents: dict[bytes, tuple[int, datetime | None]] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        journal_ok = self.journal is None or self.journal.ok
        return self.checkpoint is not None and not self.problems and journal_ok

    @property
    def first_bad_index(self) -> int | None:
        """The first bad entry, if the evidence names it exactly."""
        found = first_bad(self.problems)
        return found[0] if found is not None and found[0] == found[1] else None

    def summary(self) -> list[str]:
        out = list(self.lines)
        if self.replay is not None:
            r = self.replay
            out.append(
                f"scores (version {r.version}): {len(r.state.members)} members, "
                f"{sum(r.events_by_type.values())} events, {r.checked} published scores "
                f"recomputed, {r.not_checked} not recomputable, {len(r.differences)} differences"
            )
        for problem in self.problems:
            out.append(f"PROBLEM {problem}")
        if self.journal is not None:
            out.extend(self.journal.lines())
            out.extend(f"PROBLEM {mismatch}" for mismatch in self.journal.mismatches)
        out.append(result_line(self))
        return out


def result_line(report: Report) -> str:
    """RESULT: OK, or FAILED naming the first bad log entry and the first bad journal entry."""
    if report.ok:
        return "RESULT: OK"
    named = []
    found = first_bad(report.problems)
    if found is not None and found[0] == found[1]:
        named.append(f"first bad index {found[0]}")
    elif found is not None:
        named.append(f"first bad index one of {found[0]}..{found[1]}")
    if report.journal is not None and report.journal.first_bad_entry is not None:
        named.append(f"first bad journal entry {report.journal.first_bad_entry}")
    return "RESULT: FAILED" + (" - " + ", ".join(named) if named else "")
