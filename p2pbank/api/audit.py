"""The auditor API: the trust log's checkpoint, entries, proofs and verification key.

Public and read-only by design: every entry is pseudonymous (members appear only as keyed
HMAC pseudonyms, payloads carry no personal data), and a log only an insider can read
cannot be verified by an outsider. `python -m p2pbank.audit.verify --url ...` uses exactly
these endpoints.
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.audit import queries
from p2pbank.audit.keys import max_merge_delay, signer_for
from p2pbank.audit.schemas import (
    ConsistencyProofArgs,
    ConsistencyProofOut,
    InclusionProofArgs,
    InclusionProofOut,
    LogCheckpointOut,
    LogEntriesArgs,
    LogEntriesOut,
    LogKeyOut,
)
from p2pbank.db import db_session
from p2pbank.errors import NotFound

PUBLIC = {"security": []}  # no token: the log is pseudonymous and meant to be verified by anyone

blp = Blueprint(
    "audit_api",
    __name__,
    url_prefix="/api/v1/audit",
    description=(
        "The trust log: an append-only Merkle tree (RFC 9162) of every trust event and the "
        "hash of every ledger entry, with checkpoints signed as C2SP signed notes (Ed25519). "
        "These endpoints are PUBLIC and need no token: entries name members only by keyed "
        "pseudonyms and carry no personal data, so anyone can download the log, recompute "
        "the signed root and check that the log only ever grew "
        "(python -m p2pbank.audit.verify --url <this site>)."
    ),
)


def _verifier():
    return signer_for(current_app.config).verifier


@blp.route("/checkpoint")
class LatestCheckpoint(MethodView):
    @blp.doc(**PUBLIC, summary="The latest signed checkpoint")
    @blp.response(200, LogCheckpointOut)
    def get(self):
        checkpoint = queries.latest_checkpoint(db_session(), key_id=_verifier().key_id.hex())
        if checkpoint is None:
            raise NotFound("No checkpoint has been signed yet.")
        return checkpoint


@blp.route("/entries")
class Entries(MethodView):
    @blp.doc(**PUBLIC, summary="Entries [start, end), at most 1000 per call")
    @blp.arguments(LogEntriesArgs, location="query")
    @blp.response(200, LogEntriesOut)
    def get(self, args):
        session = db_session()
        key_id = _verifier().key_id.hex()
        leaves = queries.signed_entries(session, args["start"], args["end"], key_id)
        end = leaves[-1].sequence + 1 if leaves else args["start"]
        return {
            "start": args["start"],
            "end": end,
            "tree_size": queries.head_size(session),
            "entries": leaves,
        }


@blp.route("/proof/inclusion")
class Inclusion(MethodView):
    @blp.doc(**PUBLIC, summary="Audit path of entry `index` in the tree of `size` entries")
    @blp.arguments(InclusionProofArgs, location="query")
    @blp.response(200, InclusionProofOut)
    def get(self, args):
        return queries.inclusion(db_session(), args["index"], args["size"])


@blp.route("/proof/consistency")
class Consistency(MethodView):
    @blp.doc(**PUBLIC, summary="Proof that the tree of `new` entries extends that of `old`")
    @blp.arguments(ConsistencyProofArgs, location="query")
    @blp.response(200, ConsistencyProofOut)
    def get(self, args):
        return queries.consistency(db_session(), args["old"], args["new"])


@blp.route("/key")
class Key(MethodView):
    @blp.doc(**PUBLIC, summary="The public key that signs checkpoints (C2SP note key)")
    @blp.response(200, LogKeyOut)
    def get(self):
        verifier = _verifier()
        return {
            "vkey": verifier.vkey,
            "name": verifier.name,
            "key_id": verifier.key_id.hex(),
            "algorithm": "ed25519",
            "max_merge_delay_seconds": int(max_merge_delay(current_app.config).total_seconds()),
        }
