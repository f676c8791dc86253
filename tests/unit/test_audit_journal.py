"""Journal entries against their trust log leaves (p2pbank.audit.journal), pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from p2pbank.audit.journal import (
    EntryComparison,
    EntryLeaf,
    JournalRecord,
    entry_leaf,
    entry_leaf_from_data,
    record_from_json,
)

WHEN = datetime(2026, 11, 2, 9, 0, 0, 123456, tzinfo=UTC)


def record(entry_id: int, amount: int = 500, **changes) -> JournalRecord:
    fields = {
        "entry_id": entry_id,
        "idempotency_key": f"deposit:{entry_id}",
        "kind": "deposit",
        "currency": "EUR",
        "postings": (("platform:clearing:EUR", -amount), (f"wallet:{entry_id}:EUR", amount)),
        "ref_type": None,
        "ref_id": None,
        "gateway_ref": None,
        "memo": "",
        "reverses_entry_id": None,
        "created_at": WHEN,
    }
    return JournalRecord(**{**fields, **changes})


def leaf_for(index: int, rec: JournalRecord) -> EntryLeaf:
    return EntryLeaf(index, rec.entry_id, rec.content_hash())


def compare(records, leaves, proven_below=None):
    comparison = EntryComparison()
    for leaf in leaves:
        comparison.add_leaf(leaf)
    for rec in records:
        comparison.add_record(rec, proven_below=proven_below)
    return comparison.finish()


def test_the_served_shape_reads_back_to_the_same_hash():
    original = record(7, ref_type="loan", ref_id=3, gateway_ref="pi_1", reverses_entry_id=2)
    again = record_from_json(original.to_json())
    assert again == original
    assert again.content_hash() == original.content_hash()
    other_zone = original.to_json() | {
        "created_at": WHEN.astimezone(timezone(timedelta(hours=2))).isoformat()
    }
    assert record_from_json(other_zone).content_hash() == original.content_hash()


@pytest.mark.parametrize(
    "change",
    [
        {"id": "7"},
        {"postings": [{"account_code": "x", "amount_minor": "5"}]},
        {"postings": [{"account_code": "x", "amount_minor": True}]},
        {"memo": None},
        {"ref_id": 1.5},
        {"created_at": "2026-11-02T09:00:00"},
        {"created_at": "\u0662026-11-02T09:00:00+00:00"},
    ],
)
def test_malformed_served_entries_are_refused(change):
    with pytest.raises(ValueError):
        record_from_json(record(7).to_json() | change)


def test_honest_entries_match_their_leaves_in_any_order():
    records = [record(n) for n in (1, 2, 3)]
    check = compare(records, [leaf_for(10 + n, r) for n, r in enumerate(reversed(records))])
    assert check.ok and check.entries == 3 and check.leaves == 3
    assert check.first_bad_entry is None


@pytest.mark.parametrize("bad", [1, 2, 3])
def test_the_first_entry_whose_rows_changed_is_named(bad):
    logged = [record(n) for n in (1, 2, 3)]
    stored = [record(n, amount=900_500) if n == bad else record(n) for n in (1, 2, 3)]
    check = compare(stored, [leaf_for(n * 4, r) for n, r in enumerate(logged)])
    assert check.first_bad_entry == bad
    assert [m.entry_id for m in check.mismatches] == [bad]
    assert check.mismatches[0].leaf_index == (bad - 1) * 4
    assert "changed after it was logged" in str(check.mismatches[0])


def test_missing_extra_and_doubled_leaves_are_named():
    a, b, c = record(1), record(2), record(3)
    check = compare([a, b], [leaf_for(0, a), leaf_for(1, a), leaf_for(2, c)])
    messages = {(m.entry_id, m.message) for m in check.mismatches}
    assert (1, "logged twice (also log entry 0)") in messages
    assert (2, "has no leaf in the trust log") in messages
    assert (3, "is in the log but not in the ledger") in messages
    assert check.first_bad_entry == 1


def test_entries_whose_leaf_is_past_the_checkpoint_are_counted_as_not_yet_proven():
    a, b = record(1), record(2)
    check = compare([a, b], [leaf_for(0, a), leaf_for(5, b)], proven_below=5)
    assert check.ok and check.unproven == [2]
    assert "past the signed checkpoint" in " ".join(check.lines())


@pytest.mark.parametrize(
    "payload",
    [
        None,
        {"entry_id": "1", "hash": "a" * 64},
        {"entry_id": 1, "hash": "A" * 64},
        {"entry_id": 1, "hash": "a" * 63},
        {"entry_id": True, "hash": "a" * 64},
    ],
)
def test_a_malformed_leaf_payload_is_refused(payload):
    with pytest.raises(ValueError):
        entry_leaf(0, payload)


def test_only_ledger_entry_leaves_are_read():
    assert entry_leaf_from_data(0, b'{"type":"kyc.verified","payload":{}}') is None
    data = b'{"type":"ledger.entry","payload":{"entry_id":4,"hash":"' + b"b" * 64 + b'"}}'
    assert entry_leaf_from_data(3, data) == EntryLeaf(3, 4, "b" * 64)
