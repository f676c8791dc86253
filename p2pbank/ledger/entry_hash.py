"""The content hash of a journal entry: SHA-256 over its RFC 8785 canonical JSON.

Pure: no database. The audit log puts every entry's hash into its Merkle tree, and
`ledger-check` recomputes it from the stored rows, so a changed row is detected even
where the database triggers were bypassed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import rfc8785

HASH_VERSION = 1


def canonical_content(
    *,
    idempotency_key: str,
    kind: str,
    currency: str,
    postings: Iterable[tuple[str, int]],
    ref_type: str | None,
    ref_id: int | None,
    gateway_ref: str | None,
    memo: str,
    reverses_entry_id: int | None,
    created_at: datetime,
) -> bytes:
    """The entry as canonical JSON bytes; postings sorted by account code, then amount."""
    if created_at.tzinfo is None:
        raise ValueError("created_at must be timezone-aware")
    document: dict[str, Any] = {
        "v": HASH_VERSION,
        "idempotency_key": idempotency_key,
        "kind": kind,
        "currency": currency,
        "postings": [[code, amount] for code, amount in sorted(postings)],
        "ref_type": ref_type,
        "ref_id": ref_id,
        "gateway_ref": gateway_ref,
        "memo": memo,
        "reverses_entry_id": reverses_entry_id,
        "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    return rfc8785.dumps(document)


def content_hash(**content: Any) -> str:
    """Hex SHA-256 of `canonical_content(**content)`."""
    return hashlib.sha256(canonical_content(**content)).hexdigest()
