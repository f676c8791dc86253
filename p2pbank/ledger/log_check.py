"""Journal entries against the trust log: what `ledger-check` and `audit-verify` compare,
and the pages the auditor API serves so that an outside verifier can do the same.

A journal entry's `content_hash` column is only a cache: whoever can rewrite the entry's
rows can rewrite that column too. The `ledger.entry` leaf the entry put into the trust log
cannot be rewritten unseen (the log is signed), so each entry's hash is recomputed from its
stored rows and compared with that leaf (p2pbank.audit.journal does the comparing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.audit import queries as log_queries
from p2pbank.audit.journal import (
    LEDGER_ENTRY_EVENT,
    EntryComparison,
    EntryLeaf,
    JournalCheck,
    JournalRecord,
    entry_leaf,
)
from p2pbank.audit.queue import waiting_entries
from p2pbank.errors import ValidationFailed
from p2pbank.ledger.auditor_reads import Viewer
from p2pbank.ledger.models import Account, JournalEntry, Posting
from p2pbank.permissions import Permission, require

MAX_RECORDS_PER_PAGE = 500


def journal_records(session: Session, *, after: int = 0, limit: int = 500) -> list[JournalRecord]:
    """Entries with id > `after` in id order, as stored (read from the rows, not the
    session's copies), each with its postings by account code."""
    rows = session.execute(
        select(
            JournalEntry.id,
            JournalEntry.idempotency_key,
            JournalEntry.kind,
            JournalEntry.currency,
            JournalEntry.ref_type,
            JournalEntry.ref_id,
            JournalEntry.gateway_ref,
            JournalEntry.memo,
            JournalEntry.reverses_entry_id,
            JournalEntry.created_at,
        )
        .where(JournalEntry.id > after)
        .order_by(JournalEntry.id)
        .limit(limit)
    ).all()
    if not rows:
        return []
    legs: dict[int, list[tuple[str, int]]] = {row[0]: [] for row in rows}
    for entry_id, code, amount in session.execute(
        select(Posting.entry_id, Account.code, Posting.amount_minor)
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.entry_id.in_(list(legs)))
        .order_by(Posting.id)
    ):
        legs[entry_id].append((code, amount))
    return [
        JournalRecord(
            entry_id=row[0],
            idempotency_key=row[1],
            kind=row[2],
            currency=row[3],
            postings=tuple(legs[row[0]]),
            ref_type=row[4],
            ref_id=row[5],
            gateway_ref=row[6],
            memo=row[7],
            reverses_entry_id=row[8],
            created_at=row[9],
        )
        for row in rows
    ]


def compare_with_log(
    session: Session, *, batch: int = 500, proven_below: int | None = None
) -> JournalCheck:
    """Every journal entry recomputed and compared with its `ledger.entry` leaf.

    `proven_below`: the size of the signed checkpoint, when the caller proved the log up to
    it; entries whose leaf lies past it are counted as not yet proven.
    """
    comparison = EntryComparison()
    for index, leaf in log_queries.ledger_entry_leaves(session):
        if isinstance(leaf, EntryLeaf):
            comparison.add_leaf(leaf)
        else:
            comparison.broken_leaf(index, str(leaf))
    _queued_leaves(session, comparison)
    after = 0
    while records := journal_records(session, after=after, limit=batch):
        for record in records:
            comparison.add_record(record, proven_below=proven_below)
        after = records[-1].entry_id
    return comparison.finish()


def _queued_leaves(session: Session, comparison: EntryComparison) -> None:
    """Leaves still waiting for the sequencer count as the entry's leaf (not as missing);
    their hash is compared all the same."""
    for queue_id, _ref_id, payload in waiting_entries(session, LEDGER_ENTRY_EVENT):
        try:
            comparison.add_queued(entry_leaf(queue_id, json.loads(payload)))
        except ValueError as exc:
            comparison.broken_leaf(queue_id, f"queued as {queue_id} {exc}")


@dataclass(frozen=True)
class JournalPage:
    entries: list[JournalRecord]
    next_after: int | None  # pass as after= for the next page; None on the last page


def auditor_journal(session: Session, viewer: Viewer, *, after: int, limit: int) -> JournalPage:
    """A page of journal entries with everything their content hash covers.

    For auditors only (not admins): it is what an outside auditor's verifier downloads.
    """
    require(viewer.roles, Permission.READ_AUDIT_LOG, "Only auditors can download the journal.")
    if after < 0 or not 1 <= limit <= MAX_RECORDS_PER_PAGE:
        raise ValidationFailed("Ask for entries after 0 or more, at most 500 at a time.")
    records = journal_records(session, after=after, limit=limit + 1)
    more = len(records) > limit
    records = records[:limit]
    return JournalPage(records, records[-1].entry_id if more and records else None)
