"""Other domains write to the trust log in their own transactions: KYC decisions and role
grants (identity), and the content hash of every ledger journal entry."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from p2pbank import clock
from p2pbank.audit import queries, sequencer, services
from p2pbank.audit.models import LogLeaf
from p2pbank.errors import Forbidden, InsufficientFunds
from p2pbank.identity import services as identity
from p2pbank.ledger import services as ledger
from p2pbank.ledger.models import AccountType, JournalEntry


def events(session, event_type: str) -> list[dict]:
    sequencer.integrate_queued(session, clock.now())  # as it runs every second
    rows = session.scalars(
        select(LogLeaf.data).where(LogLeaf.event_type == event_type).order_by(LogLeaf.sequence)
    )
    return [json.loads(bytes(data)) for data in rows]


def test_a_kyc_verification_is_logged_under_the_members_pseudonym(session, make_user):
    user = make_user(roles=["lender"], kyc="pending")
    assert events(session, "kyc.verified") == []
    identity.set_kyc_status(session, None, user.id, "verified", "documents checked")
    (logged,) = events(session, "kyc.verified")
    assert logged["subject"] == services.pseudonym(session, user.id)
    assert logged["payload"] == {"from": "pending"}
    assert "documents checked" not in json.dumps(logged)  # the reason stays private


def test_other_kyc_decisions_are_not_trust_events(session, make_user):
    make_user(kyc="rejected")
    assert events(session, "kyc.verified") == []


def test_every_role_grant_is_logged_with_who_granted_it(session, make_user):
    admin = make_user(roles=["admin"], kyc="verified")
    member = make_user(roles=["lender", "borrower"])
    identity.take_role(session, member.id, "backer")
    identity.grant_role(session, admin.id, member.id, "auditor", "audit team")
    mine = [
        e
        for e in events(session, "role.granted")
        if e["subject"] == services.pseudonym(session, member.id)
    ]
    assert [e["payload"]["role"] for e in mine] == ["borrower", "lender", "backer", "auditor"]
    self_service = services.pseudonym(session, member.id)
    assert [e["payload"]["granted_by"] for e in mine] == [
        None,  # at sign-up, no actor is recorded
        None,
        self_service,
        services.pseudonym(session, admin.id),
    ]


def test_a_role_already_held_is_not_logged_again(session, make_user):
    member = make_user(roles=["lender"])
    before = queries.head_size(session)
    identity.take_role(session, member.id, "lender")
    assert queries.head_size(session) == before


def test_a_refused_grant_leaves_no_trace_in_the_log(session, make_user):
    member = make_user(roles=["lender"])
    before = queries.head_size(session)
    with pytest.raises(Forbidden, match="granted only by an admin"):
        identity.take_role(session, member.id, "admin")
    assert queries.head_size(session) == before


def _accounts(session):
    ledger.ensure_account(session, "platform:test_cash", type=AccountType.ASSET)
    ledger.ensure_account(
        session, "platform:test_owed", type=AccountType.LIABILITY, no_negative=True
    )


def test_every_journal_entry_puts_its_content_hash_in_the_log(session):
    _accounts(session)
    entry = ledger.post_entry(
        session,
        postings=[("platform:test_cash", -500), ("platform:test_owed", 500)],
        kind="deposit",
        idempotency_key="hook-1",
    )
    reversal = ledger.reverse_entry(session, entry.id, reason="test", idempotency_key="hook-2")
    logged = events(session, "ledger.entry")
    assert [e["payload"] for e in logged] == [
        {"entry_id": entry.id, "kind": "deposit", "hash": entry.content_hash},
        {"entry_id": reversal.id, "kind": reversal.kind, "hash": reversal.content_hash},
    ]
    assert all(e["subject"] is None for e in logged)
    # the hash in the log is the one the ledger can recompute from its stored rows
    assert (
        ledger.stored_content_hash(session, session.get(JournalEntry, entry.id))
        == logged[0]["payload"]["hash"]
    )


def test_a_replayed_entry_is_logged_once(session):
    _accounts(session)
    postings = [("platform:test_cash", -100), ("platform:test_owed", 100)]
    ledger.post_entry(session, postings=postings, kind="deposit", idempotency_key="hook-3")
    ledger.post_entry(session, postings=postings, kind="deposit", idempotency_key="hook-3")
    assert len(events(session, "ledger.entry")) == 1


def test_a_refused_entry_leaves_no_trace_in_the_log(session):
    _accounts(session)
    before = queries.head_size(session)
    with pytest.raises(InsufficientFunds):
        ledger.post_entry(
            session,
            postings=[("platform:test_cash", 100), ("platform:test_owed", -100)],
            kind="withdrawal",
            idempotency_key="hook-4",
        )
    assert queries.head_size(session) == before
