"""Trust log use cases: append an event, sign a checkpoint.

`append` is a primitive like `ledger.post_entry`: it only flushes, so the leaf is part of
the caller's transaction and disappears with it on rollback. It locks the single head row
(SELECT ... FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers anyway),
so concurrent appends get consecutive sequence numbers and never collide. Each append writes
the leaf, the perfect nodes it completes (amortised one) and the head: O(log n) work at most.

A leaf's data is the RFC 8785 canonical JSON of
    {"sequence": n, "type": "kyc.verified", "time": "2026-11-02T09:00:00.000000Z",
     "subject": "<32 hex pseudonym>" | null, "payload": {...}}
Payloads carry ids, pseudonyms, hashes, integer amounts and short codes — never names,
e-mail addresses or free text about a person. Floats are refused (use integer units, e.g.
basis points), which keeps every value exact and canonical.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from p2pbank.audit import queries
from p2pbank.audit.journal import canonical_json
from p2pbank.audit.keys import PSEUDONYM_INFO_KEY
from p2pbank.audit.leaf_signing import sign_leaves
from p2pbank.audit.merkle import CompactRange, leaf_hash
from p2pbank.audit.models import HEAD_ID, LogHead, LogLeaf, LogNode, SignedCheckpoint
from p2pbank.audit.note import Checkpoint, Signer, sign_checkpoint_note, valid_key_name
from p2pbank.bulk_insert import insert_rows
from p2pbank.clock import now
from p2pbank.errors import InvalidState, ValidationFailed
from p2pbank.uow import for_update

EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MAX_EVENT_TYPE = 64
MAX_SAFE_INTEGER = 2**53 - 1  # RFC 8785 numbers are IEEE doubles: integers beyond are inexact
MAX_PAYLOAD_BYTES = 8192
PSEUDONYM_HEX = 32  # 128 bits of HMAC-SHA256


class PseudonymKeyMissing(RuntimeError):
    """The session was built without the pseudonym key (see p2pbank.audit.keys)."""


# --- pseudonyms ---------------------------------------------------------------------------


def pseudonym_for_key(key: bytes, user_id: int) -> str:
    """HMAC-SHA256(key, "user:<id>") as 32 hex digits: stable, unlinkable without the key."""
    if type(user_id) is not int or user_id < 0:
        raise ValueError(f"a user id is a non-negative int, not {user_id!r}")
    digest = hmac.new(key, f"user:{user_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX]


def pseudonym_key(session: Session) -> bytes:
    value = session.info.get(PSEUDONYM_INFO_KEY)
    if callable(value):
        value = value()
    if not isinstance(value, bytes) or len(value) < 16:
        raise PseudonymKeyMissing(
            "this session has no audit pseudonym key; build sessions with "
            "info=p2pbank.audit.keys.session_info(key)"
        )
    return value


def pseudonym(session: Session, user_id: int) -> str:
    """The log's pseudonym for a user (to put counterparties into payloads, too)."""
    return pseudonym_for_key(pseudonym_key(session), user_id)


# --- leaf data ----------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and a Z, the one form leaves use."""
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are refused")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _check_json(value: object, path: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise ValidationFailed(f"{path}: integers in the log stay within +-(2**53 - 1)")
        return
    if isinstance(value, float):
        raise ValidationFailed(f"{path}: floats are refused in the log; use integer units")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_json(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationFailed(f"{path}: object keys are strings")
            _check_json(item, f"{path}.{key}")
        return
    raise ValidationFailed(f"{path}: {type(value).__name__} is not JSON")


def _json_ok(value: object) -> bool:
    """What `_check_json` accepts, without building paths for messages (the fast path)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    if kind is dict:
        return all(type(k) is str and _json_ok(v) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_json_ok(item) for item in value)
    return False  # subclasses and other types: `_check_json` decides, with its message


def leaf_data(
    sequence: int, event_type: str, time_text: str, subject: str | None, payload: Mapping
) -> bytes:
    """The canonical JSON bytes a leaf commits to."""
    document = {
        "sequence": sequence,
        "type": event_type,
        "time": time_text,
        "subject": subject,
        "payload": payload,
    }
    return canonical_json(document)


# --- the head -----------------------------------------------------------------------------


def lock_head(session: Session) -> LogHead:
    """The head row, locked for this transaction (created on the very first append)."""
    query = for_update(select(LogHead).where(LogHead.id == HEAD_ID))
    head = session.scalar(query)
    if head is None:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            insert(LogHead)
            .values(id=HEAD_ID, size=0, frontier=b"", updated_at=now())
            .on_conflict_do_nothing(index_elements=["id"])
        )
        head = session.scalar(query)
    assert head is not None
    return head


# --- commands -----------------------------------------------------------------------------


def _check_event(type: str, payload: object) -> None:
    if len(type) > MAX_EVENT_TYPE or not EVENT_TYPE.match(type):
        raise ValidationFailed(f"event type {type!r} is not like 'domain.event_name'")
    if not isinstance(payload, Mapping):
        raise ValidationFailed("the payload is a JSON object")
    if not _json_ok(payload):
        _check_json(payload, "payload")


def append(session: Session, *, type: str, subject_user_id: int | None, payload: dict) -> LogLeaf:
    """Add one event to the log inside the caller's transaction (flush only, no commit)."""
    _check_event(type, payload)
    subject = pseudonym(session, subject_user_id) if subject_user_id is not None else None

    head = lock_head(session)
    compact = CompactRange(head.size, head.roots)
    moment = now()
    data = leaf_data(head.size, type, format_time(moment), subject, payload)
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ValidationFailed(f"a log entry is at most {MAX_PAYLOAD_BYTES} bytes")
    digest = leaf_hash(data)
    leaf = LogLeaf(
        sequence=head.size,
        event_type=type,
        recorded_at=moment,
        subject=subject,
        data=data,
        leaf_hash=digest,
        integrated_at=moment,
    )
    session.add(leaf)
    completed = compact.append(digest)
    session.add_all(LogNode(level=lv, node_index=ix, hash=h) for lv, ix, h in completed[1:])
    head.size = compact.size
    head.frontier = b"".join(compact.roots)
    head.updated_at = moment
    session.flush()
    return leaf


def append_many(
    session: Session,
    events: Sequence[tuple[str, int | None, Mapping]],
    pseudonyms: Mapping[int, str] | None = None,
) -> list[int]:
    """Add (type, subject user id, payload) events in order, inside the caller's transaction
    (flush only): the same leaves as `append` for each, with one head lock and the leaves
    and completed nodes written by two bulk inserts, for bulk work such as the scores job
    publishing every member. `pseudonyms` may bring subjects' pseudonyms the caller has
    (made with this session's key). Returns the sequence numbers given."""
    if not events:
        return []
    key = pseudonym_key(session)
    for event_type, _subject, payload in events:
        _check_event(event_type, payload)
    head = lock_head(session)
    compact = CompactRange(head.size, head.roots)
    moment = now()
    time_text = format_time(moment)
    leaves, nodes = [], []
    subjects: dict[int | None, str | None] = {**(pseudonyms or {}), None: None}
    for event_type, subject_user_id, payload in events:
        subject = subjects.get(subject_user_id)
        if subject is None and subject_user_id is not None:
            subject = subjects[subject_user_id] = pseudonym_for_key(key, subject_user_id)
        data = leaf_data(compact.size, event_type, time_text, subject, payload)
        if len(data) > MAX_PAYLOAD_BYTES:
            raise ValidationFailed(f"a log entry is at most {MAX_PAYLOAD_BYTES} bytes")
        digest = leaf_hash(data)
        leaves.append(
            {
                "sequence": compact.size,
                "event_type": event_type,
                "recorded_at": moment,
                "subject": subject,
                "data": data,
                "leaf_hash": digest,
                "integrated_at": moment,
            }
        )
        nodes += [
            {"level": lv, "node_index": ix, "hash": h} for lv, ix, h in compact.append(digest)[1:]
        ]
    insert_rows(session, LogLeaf.__table__, leaves)  # after anything pending, as `append`
    insert_rows(session, LogNode.__table__, nodes)
    head.size = compact.size
    head.frontier = b"".join(compact.roots)
    head.updated_at = moment
    session.flush()
    return [leaf["sequence"] for leaf in leaves]


def sign_checkpoint(
    session: Session, signing_key: Signer, origin: str, *, integrate: bool = True
) -> SignedCheckpoint:
    """Sign the log as it stands now (C2SP checkpoint as a signed note) and commit.

    With `integrate` (the default) the leaves queued and final are integrated first
    (p2pbank.audit.sequencer), so the checkpoint covers everything committed before it.

    The root is assembled from the stored nodes and must equal the head's compact range;
    a disagreement means the storage was tampered with, and nothing is signed. Signing the
    same size again returns the checkpoint already stored (Ed25519 is deterministic).
    """
    if not origin or "\n" in origin or len(origin) > 255:
        raise ValidationFailed("an origin is one line of at most 255 characters")
    if not valid_key_name(signing_key.name):
        raise ValidationFailed("the signing key's name is not a valid note key name")
    if integrate:
        from p2pbank.audit.sequencer import integrate_batch  # it builds on this module

        while integrate_batch(session, now()):
            pass
    head = lock_head(session)
    size = head.size
    from_head = CompactRange(size, head.roots).root()
    from_nodes = queries.tree_root(session, size)
    if from_head != from_nodes:
        raise InvalidState(
            "the stored tree and the log head disagree; run `flask audit-verify` before signing"
        )
    sign_leaves(session, signing_key, origin, size)  # every entry it covers, on its own
    key_id = signing_key.key_id.hex()
    existing = session.scalar(
        select(SignedCheckpoint).where(
            SignedCheckpoint.origin == origin,
            SignedCheckpoint.key_id == key_id,
            SignedCheckpoint.tree_size == size,
        )
    )
    if existing is not None:
        if existing.root_hash != from_nodes:
            raise InvalidState(f"a checkpoint of size {size} with another root exists")
        session.commit()
        return existing
    note = sign_checkpoint_note(Checkpoint(origin, size, from_nodes), signing_key)
    row = SignedCheckpoint(
        origin=origin,
        key_name=signing_key.name,
        key_id=key_id,
        tree_size=size,
        root_hash=from_nodes,
        note=note,
        signed_at=now(),
    )
    session.add(row)
    session.commit()
    return row
