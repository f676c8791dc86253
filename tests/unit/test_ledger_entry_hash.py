"""The journal entry content hash: canonical (RFC 8785) JSON, SHA-256, order-independent
postings, sensitive to every field."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from p2pbank.ledger.entry_hash import canonical_content, content_hash

BASE = {
    "idempotency_key": "deposit:pi_1",
    "kind": "deposit",
    "currency": "EUR",
    "postings": [("platform:gateway_clearing", -2500), ("user:7:wallet", 2500)],
    "ref_type": "payment",
    "ref_id": 3,
    "gateway_ref": "pi_1",
    "memo": "Card payment €25",
    "reverses_entry_id": None,
    "created_at": datetime(2026, 1, 2, 3, 4, 5, 600_007, tzinfo=UTC),
}


def test_canonical_bytes_are_sorted_compact_json():
    assert (
        canonical_content(**BASE)
        == (
            '{"created_at":"2026-01-02T03:04:05.600007+00:00","currency":"EUR",'
            '"gateway_ref":"pi_1","idempotency_key":"deposit:pi_1","kind":"deposit",'
            '"memo":"Card payment €25","postings":[["platform:gateway_clearing",-2500],'
            '["user:7:wallet",2500]],"ref_id":3,"ref_type":"payment","reverses_entry_id":null,'
            '"v":1}'
        ).encode()
    )


def test_hash_is_hex_sha256_of_the_canonical_bytes():
    digest = content_hash(**BASE)
    assert digest == hashlib.sha256(canonical_content(**BASE)).hexdigest()
    assert len(digest) == 64 and int(digest, 16) >= 0


def test_posting_order_does_not_matter():
    flipped = {**BASE, "postings": list(reversed(BASE["postings"]))}
    assert content_hash(**flipped) == content_hash(**BASE)


def test_the_same_instant_in_another_zone_hashes_the_same():
    cet = timezone(timedelta(hours=1))
    moved = {**BASE, "created_at": BASE["created_at"].astimezone(cet)}
    assert content_hash(**moved) == content_hash(**BASE)


@pytest.mark.parametrize(
    "field, value",
    [
        ("idempotency_key", "deposit:pi_2"),
        ("kind", "refund"),
        ("currency", "USD"),
        ("postings", [("platform:gateway_clearing", -2501), ("user:7:wallet", 2501)]),
        ("postings", [("platform:gateway_clearing", -2500), ("user:8:wallet", 2500)]),
        ("ref_type", None),
        ("ref_id", 4),
        ("gateway_ref", "pi_2"),
        ("memo", "Card payment €26"),
        ("reverses_entry_id", 1),
        ("created_at", BASE["created_at"] + timedelta(microseconds=1)),
    ],
)
def test_every_field_changes_the_hash(field, value):
    assert content_hash(**{**BASE, field: value}) != content_hash(**BASE)


def test_naive_time_is_refused():
    with pytest.raises(ValueError):
        content_hash(**{**BASE, "created_at": datetime(2026, 1, 2)})


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[a-z]{1,8}:[0-9]{1,3}", fullmatch=True), st.integers(-(10**6), 10**6)
        ),
        min_size=2,
        max_size=6,
        unique_by=lambda leg: leg[0],
    ),
    st.randoms(),
)
def test_any_permutation_of_postings_hashes_the_same(legs, rng):
    shuffled = list(legs)
    rng.shuffle(shuffled)
    assert content_hash(**{**BASE, "postings": shuffled}) == content_hash(
        **{**BASE, "postings": legs}
    )
