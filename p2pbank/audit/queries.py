"""Reading the trust log: one import for every read.

The reads live in modules named for what they read, re-exported here because the pages,
the API, the jobs and the CLI import them from this one place: the stored tree and its
proofs (p2pbank.audit.stored_tree), entries and checkpoints (log_entries), the explorer
(explorer), a proof explained step by step (proof_steps), the storage check
(storage_check) and `flask audit-verify` (database_verify).
"""

from __future__ import annotations

from p2pbank.audit.database_verify import DatabaseSource, verify_database
from p2pbank.audit.explorer import ExplorerPage, explore
from p2pbank.audit.log_entries import (
    MAX_ENTRIES_PER_PAGE,
    SignedEntry,
    checkpoint_history,
    entries,
    get_entry,
    latest_checkpoint,
    leaf_json,
    ledger_entry_leaves,
    signed_entries,
)
from p2pbank.audit.proof_steps import ProofExplanation, ProofStep, explain_inclusion
from p2pbank.audit.storage_check import check_storage
from p2pbank.audit.stored_tree import (
    ConsistencyProof,
    InclusionProof,
    StorageMissing,
    consistency,
    head_size,
    inclusion,
    tree_root,
    with_stored_nodes,
)

__all__ = [
    "MAX_ENTRIES_PER_PAGE",
    "ConsistencyProof",
    "DatabaseSource",
    "ExplorerPage",
    "InclusionProof",
    "ProofExplanation",
    "ProofStep",
    "SignedEntry",
    "StorageMissing",
    "check_storage",
    "checkpoint_history",
    "consistency",
    "entries",
    "explain_inclusion",
    "explore",
    "get_entry",
    "head_size",
    "inclusion",
    "latest_checkpoint",
    "leaf_json",
    "ledger_entry_leaves",
    "signed_entries",
    "tree_root",
    "verify_database",
    "with_stored_nodes",
]
