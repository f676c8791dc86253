"""The trust log for tests: the platform log's signer, changing the log behind the
application's back, and an in-memory log (`ListLog`) for the verifier's own tests."""

from __future__ import annotations

import rfc8785
from sqlalchemy import text

from p2pbank.audit import merkle, note
from p2pbank.audit.leaf_signatures import leaf_statement
from p2pbank.audit.note import Checkpoint
from p2pbank.audit.verify import Entry, SourceError

ORIGIN = "test.p2pbank.example/trust-log"
SIGNER = note.generate_signer(ORIGIN)

LIST_ORIGIN = "test.example/log"
LIST_SIGNER = note.generate_signer(LIST_ORIGIN)


def tamper(session, sql: str, **params) -> None:
    """Change the log behind the application's back, as someone with database access
    would; on PostgreSQL the append-only triggers are bypassed for this one statement."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SET LOCAL session_replication_role = replica"))
    session.execute(text(sql), params)
    if postgres:
        session.execute(text("SET LOCAL session_replication_role = origin"))
    session.expire_all()


def leaf(index: int, event_type: str = "test.event", subject: str | None = "ab" * 16, **payload):
    """The canonical JSON of entry `index` of the in-memory log."""
    return rfc8785.dumps(
        {
            "sequence": index,
            "type": event_type,
            "time": f"2026-11-02T09:00:{index % 60:02d}.000000Z",
            "subject": subject,
            "payload": payload or {"n": index},
        }
    )


class ListLog:
    """An in-memory log that answers proofs over the hashes it stores, so a test can
    corrupt what it serves as a damaged database would."""

    def __init__(self, count: int, *, signed_leaves: bool = False) -> None:
        self.data = [leaf(i) for i in range(count)]
        self.stored = [merkle.leaf_hash(d) for d in self.data]
        self.bad_range: tuple[int, int] | None = None
        self.note = ""
        self.signed_leaves = signed_leaves
        self.signatures: dict[int, bytes] = {}

    def append(self, count: int) -> None:
        for _ in range(count):
            self.data.append(leaf(len(self.data)))
            self.stored.append(merkle.leaf_hash(self.data[-1]))

    def sign(self) -> Checkpoint:
        if self.signed_leaves:  # as the platform does: each entry once, when first covered
            for index in range(len(self.signatures), len(self.stored)):
                statement = leaf_statement(LIST_ORIGIN, index, self.stored[index])
                self.signatures[index] = LIST_SIGNER.sign(statement)
        checkpoint = Checkpoint(
            LIST_ORIGIN, len(self.stored), merkle.root_from_leaf_hashes(self.stored)
        )
        self.note = note.sign_checkpoint_note(checkpoint, LIST_SIGNER)
        return checkpoint

    def _subtree(self, start: int, end: int) -> bytes:
        if (start, end) == self.bad_range:
            return bytes(32)
        return merkle.root_from_leaf_hashes(self.stored[start:end])

    # the LogSource protocol
    def checkpoint_note(self) -> str:
        if not self.note:
            raise SourceError("no checkpoint")
        return self.note

    def entries(self, start: int, end: int) -> list[Entry]:
        end = min(end, start + 7, len(self.data))  # small pages: the verifier must loop
        return [
            Entry(i, self.data[i], self.stored[i], self.signatures.get(i))
            for i in range(start, end)
        ]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof(self._subtree, index, size)

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        return merkle.consistency_proof(self._subtree, old, new)
