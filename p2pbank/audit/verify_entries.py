"""The outside verifier's checks of single entries: their canonical JSON, their numbering,
and the maximum merge delay between an entry's time and its integration.

Shared by the signed entries (p2pbank.audit.verify_checkpoint) and those past the
checkpoint (p2pbank.audit.tail), which must pass the very same checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import rfc8785

from p2pbank.audit.replay import LogEvent
from p2pbank.audit.verify_report import Problem, Report
from p2pbank.audit.verify_source import Entry, LogSource

LEAF_FIELDS = frozenset({"sequence", "type", "time", "subject", "payload"})
PAGE = 1000


def parse_entry(index: int, data: bytes) -> tuple[LogEvent | None, str | None]:
    """(event, None) for a well-formed leaf numbered `index`, else (None, what is wrong)."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "is not UTF-8 JSON"
    try:
        canonical = rfc8785.dumps(document)
    except Exception:  # any value canonical JSON cannot carry
        return None, "holds a value canonical JSON cannot carry"
    if canonical != data:
        return None, "is not in canonical JSON (RFC 8785)"
    if not isinstance(document, dict) or set(document) != LEAF_FIELDS:
        return None, "does not have exactly sequence, type, time, subject and payload"
    if document["sequence"] != index or type(document["sequence"]) is not int:
        return None, f"says it is entry {document['sequence']!r}"
    subject, payload = document["subject"], document["payload"]
    if not isinstance(document["type"], str) or not isinstance(payload, dict):
        return None, "has a malformed type or payload"
    if subject is not None and not isinstance(subject, str):
        return None, "has a malformed subject"
    try:
        time = datetime.fromisoformat(document["time"])
    except (TypeError, ValueError):
        return None, "has a malformed time"
    if time.tzinfo is None:
        return None, "has a time without a zone"
    return LogEvent(index, document["type"], time, subject, payload), None


def entry_timing(report: Report, entry: Entry, event: LogEvent | None) -> None:
    """The maximum merge delay for one entry, and its content hash if promises are checked:
    an entry is integrated within the delay of its time (the time it was queued)."""
    if report.contents is not None:
        from p2pbank.audit.promises import content_hash_of_leaf

        digest = content_hash_of_leaf(entry.data)
        if digest is not None:
            report.contents.setdefault(digest, (entry.index, entry.integrated_at))
    if entry.integrated_at is None or event is None:
        return
    waited = entry.integrated_at - event.time
    if waited > report.max_merge_delay:
        report.problems.append(
            Problem(
                f"integrated {waited.total_seconds():.0f} s after its time, past the maximum "
                f"merge delay of {report.max_merge_delay.total_seconds():.0f} s",
                entry.index,
            )
        )


def download(source: LogSource, size: int, report: Report) -> Iterator[Entry]:
    """The first `size` entries in order; a short or misnumbered page ends it with a problem."""
    position = 0
    while position < size:
        page = source.entries(position, min(position + PAGE, size))
        if not page:
            report.problems.append(
                Problem(f"the log serves only {position} of the {size} signed entries", position)
            )
            return
        for entry in page:
            if entry.index != position:
                report.problems.append(
                    Problem(f"entry {position} expected, the log served {entry.index}", position)
                )
                return
            yield entry
            position += 1
            if position == size:
                return
