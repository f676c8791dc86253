"""Trust for tests: completed deals open for ratings, and reading back the trust log."""

from __future__ import annotations

import itertools

from p2pbank.audit.queries import entries, head_size
from p2pbank.audit.replay import replay
from p2pbank.audit.verify import parse_entry
from p2pbank.trust import services

_refs = itertools.count(1)


def completed(session, principal, counterparty, ref_type="loan", at=None):
    """A completed deal between the two (a fresh reference each time), open for ratings."""
    (transaction,) = services.record_completed_transaction(
        session,
        ref_type=ref_type,
        ref_id=next(_refs),
        principal_id=principal.id,
        counterparty_ids=[counterparty.id],
        completed_at=at,
    )
    session.commit()
    return transaction


def rate_both(session, bo, lena, value_for_bo="positive"):
    """A completed loan between Bo and Lena, each rating the other."""
    transaction = completed(session, bo, lena)
    services.rate_counterparty(session, lena.id, transaction.id, value=value_for_bo)
    services.rate_counterparty(session, bo.id, transaction.id, value="positive")


def log_since(session, start: int) -> list[tuple[str, dict]]:
    """(type, payload) of every trust-log entry from `start` on."""
    found = []
    for leaf in entries(session, start, head_size(session)):
        event, _ = parse_entry(leaf.sequence, bytes(leaf.data))
        found.append((event.type, event.payload))
    return found


def replay_log(session):
    """What replaying the whole trust log gives."""
    events = [
        parse_entry(leaf.sequence, bytes(leaf.data))[0]
        for leaf in entries(session, 0, head_size(session))
    ]
    return replay(events)
