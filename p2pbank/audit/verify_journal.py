"""The outside verifier's journal check (`python -m p2pbank.audit.verify --token ...`).

With an auditor's API token the verifier downloads every journal entry with the fields its
content hash covers (GET /api/v1/ledger/journal), recomputes each hash
(p2pbank.audit.journal), finds the entry's `ledger.entry` leaf among the log entries it has
already proven against the signed checkpoint, and names the first entry whose rows no longer
hash to what the log holds. The first such entry's leaf is also proven on its own with an
inclusion proof, so the report shows the evidence for the entry it names.

Standard library only, like the verifier: no database, no web framework.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator

from p2pbank.audit import merkle
from p2pbank.audit.journal import (
    LEDGER_ENTRY_EVENT,
    EntryComparison,
    JournalCheck,
    JournalRecord,
    entry_leaf,
    record_from_json,
)
from p2pbank.audit.replay import LogEvent
from p2pbank.audit.tail import check_tail
from p2pbank.audit.verify import LogSource, Problem, Report, SourceError

JOURNAL_PATH = "/api/v1/ledger/journal"
JOURNAL_PAGE = 500

Fetch = Callable[[str, float, dict], bytes]


def urllib_fetch_with_headers(url: str, timeout: float, headers: dict) -> bytes:
    """GET `url` with extra headers; the body of a 2xx answer, SourceError otherwise."""
    request = urllib.request.Request(  # noqa: S310 - JournalSource admits http(s) URLs only
        url,
        headers={"Accept": "application/json", "User-Agent": "p2pbank-audit-verify", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        raise SourceError(f"HTTP {exc.code} from {url}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SourceError(f"cannot reach {url}: {exc}") from exc


class JournalSource:
    """The auditor-only journal pages of the platform at `url`, read with `token`."""

    def __init__(
        self, url: str, token: str, timeout: float = 30.0, fetch: Fetch = urllib_fetch_with_headers
    ) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SourceError(f"not an http(s) URL: {url!r}")
        if not token.strip():
            raise SourceError("an empty API token")
        base = url.rstrip("/")
        for suffix in ("/api/v1/audit", "/api/v1"):
            base = base.removesuffix(suffix)
        self.url = base + JOURNAL_PATH
        self.headers = {"Authorization": f"Bearer {token.strip()}"}
        self.timeout = timeout
        self.fetch = fetch

    def page(self, after: int) -> tuple[list[JournalRecord], int | None]:
        query = urllib.parse.urlencode({"after": after, "limit": JOURNAL_PAGE})
        body = self.fetch(f"{self.url}?{query}", self.timeout, self.headers)
        try:
            document = json.loads(body)
            records = [record_from_json(item) for item in document["entries"]]
            next_after = document.get("next_after")
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceError(f"malformed journal page: {exc}") from exc
        if next_after is not None and (type(next_after) is not int or next_after <= after):
            raise SourceError("the journal page does not move forward")
        return records, next_after

    def records(self) -> Iterator[JournalRecord]:
        after: int | None = 0
        while after is not None:
            records, after = self.page(after)
            yield from records


def _leaves(comparison: EntryComparison, events: list[LogEvent]) -> None:
    for event in events:
        if event.type != LEDGER_ENTRY_EVENT:
            continue
        try:
            comparison.add_leaf(entry_leaf(event.index, event.payload))
        except ValueError as exc:
            comparison.broken_leaf(event.index, str(exc))


def verify_journal(
    source: LogSource,
    report: Report,
    journal: JournalSource,
    tail: list[LogEvent],
    end: int,
) -> JournalCheck:
    """Compare every journal entry with its leaf; sets and returns `report.journal`.

    `tail` holds the events past the checkpoint up to `end`, read (check_tail) before the
    journal: an entry and its leaf are committed together, so every leaf read names an entry
    the journal then serves; entries newer than the log read get their leaves from one more
    read of the log's end.
    """
    assert report.checkpoint is not None
    size = report.checkpoint.size
    try:
        records = list(journal.records())
    except SourceError as exc:
        report.unreadable = True
        report.problems.append(Problem(f"journal: {exc}"))
        return JournalCheck()
    comparison = EntryComparison()
    _leaves(comparison, report.events)
    _leaves(comparison, tail)
    if not all(comparison.has_leaf(record.entry_id) for record in records):
        newer, _ = check_tail(source, report, start=end)
        _leaves(comparison, newer)
    # An entry newer than the maximum merge delay may still wait for the sequencer.
    pending_since = report.checked_at - report.max_merge_delay
    for record in records:
        comparison.add_record(record, proven_below=size, pending_since=pending_since)
    check = comparison.finish()
    report.journal = check
    _prove_first(source, report, check)
    return check


def _prove_first(source: LogSource, report: Report, check: JournalCheck) -> None:
    """Prove the leaf of the first differing entry against the checkpoint on its own."""
    assert report.checkpoint is not None
    size, root = report.checkpoint.size, report.checkpoint.root_hash
    first = next((m for m in check.mismatches if m.leaf_index is not None), None)
    if first is None or first.entry_id is None or first.leaf_index is None:
        return
    index = first.leaf_index
    if index >= size:
        report.lines.append(
            f"journal entry {first.entry_id}: its leaf (log entry {index}) is past the signed "
            f"checkpoint of {size}: the difference stands, proof follows with the next checkpoint"
        )
        return
    try:
        proof = source.inclusion_proof(index, size)
    except SourceError as exc:
        report.problems.append(Problem(f"inclusion proof: {exc}", index))
        return
    report.proofs_checked += 1
    if merkle.verify_inclusion(report.leaf_hashes[index], index, size, proof, root):
        report.lines.append(
            f"journal entry {first.entry_id}: its leaf (log entry {index}) is proven in the "
            f"signed checkpoint of {size} entries (inclusion proof verified)"
        )
    else:
        report.problems.append(
            Problem(f"inclusion proof of the leaf of journal entry {first.entry_id}", index)
        )
