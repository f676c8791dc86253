"""The content hash of a journal entry: SHA-256 over its RFC 8785 canonical JSON.

Pure: no database. The trust log puts every entry's hash into its Merkle tree; the
definition lives with the log (p2pbank.audit.journal) so that the outside verifier, which
knows no other domain, recomputes it with the same code as `ledger-check`.
"""

from __future__ import annotations

from p2pbank.audit.journal import HASH_VERSION, canonical_content, content_hash

__all__ = ["HASH_VERSION", "canonical_content", "content_hash"]
