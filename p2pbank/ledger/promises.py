"""The trust log's signed promise for a journal entry's leaf, for the people it concerns.

A posting queues its `ledger.entry` leaf (p2pbank.audit.queue); the sequencer integrates
it within the log's maximum merge delay. Whoever caused the entry (the owner of an account
it moved money on) and auditors can fetch the log's signed promise of inclusion and later
hold the log to it (`python -m p2pbank.audit.verify --promise FILE`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.audit.journal import LEDGER_ENTRY_EVENT
from p2pbank.audit.note import Signer
from p2pbank.audit.queue import promise_for
from p2pbank.errors import NotFound
from p2pbank.ledger.auditor_reads import Viewer
from p2pbank.ledger.models import Account, JournalEntry, Posting
from p2pbank.permissions import Permission


def _concerns(session: Session, viewer: Viewer, entry_id: int) -> bool:
    if viewer.may(Permission.READ_BOOKS):
        return True
    if viewer.user_id is None:
        return False
    owner = session.scalar(
        select(Account.id)
        .join(Posting, Posting.account_id == Account.id)
        .where(Posting.entry_id == entry_id, Account.owner_id == viewer.user_id)
        .limit(1)
    )
    return owner is not None


def entry_promise(
    session: Session, viewer: Viewer, entry_id: int, signer: Signer, max_merge_delay: timedelta
) -> dict:
    """{entry_id, promise, log_index}: the promise, and the leaf's index once integrated.
    An entry the viewer may not see is answered like one that does not exist."""
    if session.get(JournalEntry, entry_id) is None or not _concerns(session, viewer, entry_id):
        raise NotFound("No such journal entry.")
    promise, index = promise_for(
        session,
        signer,
        signer.name,
        event_type=LEDGER_ENTRY_EVENT,
        ref_id=entry_id,
        max_merge_delay=max_merge_delay,
    )
    return {"entry_id": entry_id, "promise": promise.to_json(), "log_index": index}
