"""Issue 14: the trust log fed by a queue and a sequencer.

A posting only queues its leaf; the sequencer integrates queued leaves in queue order, in
batches, with the same leaf data a direct append writes, signs a checkpoint after each
batch, never integrates a leaf twice, and never skips one whose transaction commits late.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from p2pbank import clock
from p2pbank.audit import queries, queue, sequencer, services
from p2pbank.audit.models import LogLeaf, QueuedLeaf, SignedCheckpoint
from p2pbank.audit.note import generate_signer
from p2pbank.audit.promises import content_bytes, leaf_bytes
from p2pbank.ledger import services as ledger
from p2pbank.ledger.models import AccountType

SIGNER = generate_signer("test.p2pbank.example/trust-log")


def _accounts(session):
    ledger.ensure_account(session, "platform:test_cash", type=AccountType.ASSET)
    ledger.ensure_account(session, "platform:test_owed", type=AccountType.LIABILITY)


def _post(session, key: str, amount: int = 100):
    return ledger.post_entry(
        session,
        postings=[("platform:test_cash", -amount), ("platform:test_owed", amount)],
        kind="deposit",
        idempotency_key=key,
    )


def test_a_posting_queues_its_leaf_and_touches_no_shared_row(session, frozen_now):
    _accounts(session)
    before = queries.head_size(session)
    _post(session, "seq-1")
    assert queries.head_size(session) == before  # the head row was not touched
    state = queue.queue_state(session)
    assert state.waiting == 1 and state.oldest_queued_at == frozen_now


def test_the_sequencer_writes_the_leaf_a_direct_append_would(session, frozen_now):
    _accounts(session)
    entry = _post(session, "seq-2")
    clock.advance(timedelta(seconds=3))
    assert sequencer.integrate_queued(session, clock.now()) == 1
    leaf = session.scalar(select(LogLeaf).where(LogLeaf.event_type == "ledger.entry"))
    payload = {"entry_id": entry.id, "kind": "deposit", "hash": entry.content_hash}
    expected = services.leaf_data(
        leaf.sequence, "ledger.entry", services.format_time(frozen_now), None, payload
    )
    assert bytes(leaf.data) == expected
    assert leaf.recorded_at == frozen_now  # the leaf's time is the queue time
    assert leaf.integrated_at == frozen_now + timedelta(seconds=3)
    assert queue.queue_state(session).waiting == 0
    assert queries.check_storage(session) == []


@pytest.mark.parametrize(
    "payload",
    [{}, {"a": [1, -2, None, True]}, {"ü": "snow ☃", "z": {"y": "\u2028"}}, {"q": 'a"b\\c'}],
)
def test_spliced_leaf_bytes_are_the_canonical_json_of_the_whole_leaf(payload):
    body = services.canonical_json(payload)
    for subject in (None, "ab" * 16):
        spliced = leaf_bytes(41, "x.y", "2026-11-02T09:00:00.000000Z", subject, body)
        whole = services.leaf_data(41, "x.y", "2026-11-02T09:00:00.000000Z", subject, payload)
        assert spliced == whole
        document = json.loads(whole)
        del document["sequence"]
        assert content_bytes("x.y", "2026-11-02T09:00:00.000000Z", subject, body) == (
            services.canonical_json(document)
        )


def test_integrating_again_changes_nothing_and_a_leaf_is_never_integrated_twice(session):
    _accounts(session)
    for n in range(5):
        _post(session, f"seq-idem-{n}")
    assert sequencer.integrate_queued(session, clock.now()) == 5
    size = queries.head_size(session)
    assert sequencer.integrate_queued(session, clock.now()) == 0
    assert queries.head_size(session) == size
    queued = session.scalars(select(QueuedLeaf.id)).all()
    integrated = session.scalars(select(LogLeaf.queue_id).where(LogLeaf.queue_id.is_not(None)))
    assert sorted(integrated) == sorted(queued)
    # and the database itself refuses a second leaf for the same queue row
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO audit_leaves (sequence, event_type, recorded_at, data, leaf_hash,"
                " queue_id) VALUES (:s, 'x.y', :t, :d, :h, :q)"
            ),
            {"s": size, "t": clock.now(), "d": b"{}", "h": bytes(32), "q": queued[0]},
        )


def test_batches_are_integrated_in_queue_order_and_each_gets_a_checkpoint(session):
    _accounts(session)
    entries = [_post(session, f"seq-batch-{n}") for n in range(5)]
    start = queries.head_size(session)
    assert sequencer.integrate_queued(session, clock.now(), 2, signer=SIGNER) == 5
    logged = [
        json.loads(bytes(d))["payload"]["entry_id"]
        for d in session.scalars(
            select(LogLeaf.data).where(LogLeaf.sequence >= start).order_by(LogLeaf.sequence)
        )
    ]
    assert logged == [e.id for e in entries]
    sizes = session.scalars(select(SignedCheckpoint.tree_size).order_by(SignedCheckpoint.id))
    assert list(sizes)[-3:] == [start + 2, start + 4, start + 5]


def test_signing_a_checkpoint_integrates_what_is_queued_first(session):
    _accounts(session)
    _post(session, "seq-sign")
    checkpoint = services.sign_checkpoint(session, SIGNER, SIGNER.name)
    assert checkpoint.tree_size == queries.head_size(session)
    assert queue.queue_state(session).waiting == 0


def test_a_deleted_leaf_does_not_pass_for_one_still_waiting(session):
    _accounts(session)
    _post(session, "seq-del-1")
    _post(session, "seq-del-2")
    sequencer.integrate_queued(session, clock.now())
    assert queue.queue_state(session).waiting == 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))
    first = session.scalar(select(func.min(LogLeaf.sequence)).where(LogLeaf.queue_id.is_not(None)))
    session.execute(text("DELETE FROM audit_leaves WHERE sequence = :s"), {"s": first})
    assert queue.queue_state(session).waiting == 0
