"""Signing each entry's leaf hash (p2pbank.audit.leaf_signatures) as checkpoints are signed.

`sign_leaves` joins the caller's transaction (flush only), like the checkpoint it precedes:
whoever signs a checkpoint of `size` entries first signs every entry below `size` that this
key has not signed yet, so every entry a checkpoint covers carries its own signature.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.audit import merkle
from p2pbank.audit.leaf_signatures import leaf_statement
from p2pbank.audit.models import LeafSignature, LogLeaf
from p2pbank.audit.note import Signer
from p2pbank.bulk_insert import insert_rows
from p2pbank.errors import InvalidState

BATCH = 2000


def sign_leaves(session: Session, signer: Signer, origin: str, size: int) -> int:
    """Sign the leaf hash of every entry below `size` not yet signed by this key; the count.

    Each entry's data must still hash to its stored leaf hash: a log whose storage
    disagrees with itself is not signed (`flask audit-verify` says where)."""
    key_id = signer.key_id.hex()
    signed = session.scalar(
        select(func.max(LeafSignature.sequence)).where(LeafSignature.key_id == key_id)
    )
    start = 0 if signed is None else signed + 1
    private = Ed25519PrivateKey.from_private_bytes(signer.seed)
    count = 0
    while start < size:
        rows = session.execute(
            select(LogLeaf.sequence, LogLeaf.data, LogLeaf.leaf_hash)
            .where(LogLeaf.sequence >= start, LogLeaf.sequence < min(size, start + BATCH))
            .order_by(LogLeaf.sequence)
        ).all()
        if not rows or rows[0][0] != start:
            raise InvalidState(f"entry {start} is missing from storage; nothing was signed")
        values = []
        for sequence, data, stored in rows:
            if merkle.leaf_hash(bytes(data)) != bytes(stored):
                raise InvalidState(
                    f"entry {sequence}'s data does not match its stored leaf hash; "
                    "run `flask audit-verify` before signing"
                )
            statement = leaf_statement(origin, sequence, bytes(stored))
            values.append(
                {"sequence": sequence, "key_id": key_id, "signature": private.sign(statement)}
            )
        insert_rows(session, LeafSignature.__table__, values)  # COPY on PostgreSQL
        count += len(values)
        start = rows[-1][0] + 1
    return count


def signatures(session: Session, start: int, end: int, key_id: str) -> dict[int, bytes]:
    """The signatures by `key_id` of entries [start, end), by entry."""
    rows = session.execute(
        select(LeafSignature.sequence, LeafSignature.signature).where(
            LeafSignature.key_id == key_id,
            LeafSignature.sequence >= start,
            LeafSignature.sequence < end,
        )
    )
    return {sequence: bytes(signature) for sequence, signature in rows}
