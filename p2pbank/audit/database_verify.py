"""`flask audit-verify`: the outside verifier run over this database instead of the HTTP
API, plus what only the database can show (every signed checkpoint against the next, and
the storage check), so the platform checks itself with the auditors' own code.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.audit import merkle
from p2pbank.audit.leaf_signing import signatures
from p2pbank.audit.log_entries import entries, latest_checkpoint
from p2pbank.audit.models import SignedCheckpoint
from p2pbank.audit.note import Verifier
from p2pbank.audit.storage_check import check_storage
from p2pbank.audit.stored_tree import consistency, head_size, inclusion
from p2pbank.audit.verify_checkpoint import verify_log
from p2pbank.audit.verify_report import DEFAULT_MAX_MERGE_DELAY, Problem, Report
from p2pbank.audit.verify_source import Entry, SourceError
from p2pbank.errors import DomainError


class DatabaseSource:
    """The verifier's LogSource reading this database instead of the HTTP API."""

    def __init__(self, session: Session, key_id: str | None = None) -> None:
        self.session = session
        self.key_id = key_id

    def checkpoint_note(self) -> str:
        checkpoint = latest_checkpoint(self.session, key_id=self.key_id)
        if checkpoint is None:
            raise SourceError("no checkpoint has been signed yet")
        return checkpoint.note

    def entries(self, start: int, end: int) -> list[Entry]:
        try:
            leaves = entries(self.session, start, end)
        except DomainError as exc:
            raise SourceError(exc.detail) from exc
        if not leaves:
            return []
        signed = (
            signatures(self.session, leaves[0].sequence, leaves[-1].sequence + 1, self.key_id)
            if self.key_id is not None
            else {}
        )
        return [
            Entry(
                leaf.sequence,
                bytes(leaf.data),
                bytes(leaf.leaf_hash),
                signed.get(leaf.sequence),
                leaf.integrated_at,
            )
            for leaf in leaves
        ]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        try:
            return inclusion(self.session, index, size).path
        except DomainError as exc:
            raise SourceError(exc.detail) from exc

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        try:
            return consistency(self.session, old_size, new_size).path
        except DomainError as exc:
            raise SourceError(exc.detail) from exc


def verify_database(
    session: Session,
    verifier: Verifier,
    *,
    proofs: int = 64,
    max_merge_delay: timedelta = DEFAULT_MAX_MERGE_DELAY,
) -> Report:
    """What `flask audit-verify` runs: the independent verifier over this database, the
    consistency of every signed checkpoint with the next, and the full storage check."""
    report = verify_log(
        DatabaseSource(session, verifier.key_id.hex()),
        verifier,
        proofs=proofs,
        max_merge_delay=max_merge_delay,
    )
    history = list(
        session.scalars(
            select(SignedCheckpoint)
            .where(SignedCheckpoint.key_id == verifier.key_id.hex())
            .order_by(SignedCheckpoint.tree_size, SignedCheckpoint.id)
        )
    )
    for older, newer in zip(history, history[1:], strict=False):
        if older.origin != newer.origin:
            continue
        proof = consistency(session, older.tree_size, newer.tree_size).path
        if not merkle.verify_consistency(
            older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, proof
        ):
            report.problems.append(
                Problem(
                    f"signed checkpoints of sizes {older.tree_size} and {newer.tree_size} "
                    "are not consistent"
                )
            )
        report.proofs_checked += 1
    report.problems.extend(check_storage(session))
    size = head_size(session)
    if report.checkpoint is not None and size > report.checkpoint.size:
        report.lines.append(
            f"entries {report.checkpoint.size}..{size - 1}: past the signed checkpoint; "
            "checked against their stored leaf hashes, the stored nodes and the log head "
            "only: a rewrite of all of those together is provable once a checkpoint covers them"
        )
    return report
