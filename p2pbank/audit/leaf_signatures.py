"""Signed leaves: the log's key signs each entry's leaf hash once, when the first
checkpoint that covers the entry is signed.

Pure: no database, no framework. A checkpoint signs only the root, and the root fixes
only the combined hash of sibling entries; an entry rewritten together with its stored
leaf hash could therefore be told apart from its sibling only by a checkpoint that ends
between them. Each entry's own signature settles it: it verifies over the hash recomputed
from the entry's data if and only if the data is what the log signed.

The signed statement is binary and starts with a NUL byte, so it can never be mistaken for
a signed note (whose text has no control characters) signed by the same key.
"""

from __future__ import annotations

from p2pbank.audit.note import Verifier

LEAF_LABEL = b"\x00p2pbank/audit/leaf/v1\x00"


def leaf_statement(origin: str, index: int, leaf_hash: bytes) -> bytes:
    """What the log signs for entry `index` of the log `origin` with leaf hash `leaf_hash`."""
    if type(index) is not int or index < 0 or len(leaf_hash) != 32:
        raise ValueError("a leaf statement needs an index >= 0 and a 32-byte hash")
    return LEAF_LABEL + origin.encode() + b"\x00" + index.to_bytes(8, "big") + bytes(leaf_hash)


def leaf_verdict(verifier: Verifier, origin: str, index: int, leaf_hash: bytes, signature):
    """True if `signature` signs this leaf hash, False if it does not, None if there is none."""
    if signature is None:
        return None
    return verifier.verify(leaf_statement(origin, index, leaf_hash), bytes(signature))
