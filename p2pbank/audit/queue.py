"""The trust log's queue: what a busy command's transaction writes instead of a leaf.

`enqueue` is a primitive like `ledger.post_entry`: one INSERT into the insert-only
`audit_queue`, joining the caller's transaction, touching no shared row; so commands that
log run side by side instead of queueing behind the log's head row. The sequencer
(p2pbank.audit.sequencer) integrates the queued leaf within the maximum merge delay; until
then whoever caused it can hold the log to it with a signed promise (`promise_for`).

The leaf's time is the queue time: the leaf records when the event happened, whenever it
is integrated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Text, and_, cast, func, insert, select, tuple_
from sqlalchemy.orm import Session, aliased

from p2pbank.audit.models import HEAD_ID, LogHead, LogLeaf, QueuedLeaf
from p2pbank.audit.note import Signer
from p2pbank.audit.promises import Promise, content_bytes, sign_promise
from p2pbank.audit.services import (
    MAX_PAYLOAD_BYTES,
    MAX_SAFE_INTEGER,
    _check_event,
    canonical_json,
    format_time,
    pseudonym,
)
from p2pbank.clock import now
from p2pbank.errors import NotFound, ValidationFailed

DEFAULT_MAX_MERGE_DELAY = timedelta(seconds=60)
QUEUE = QueuedLeaf.__table__
_SEQUENCE_ROOM = len(b',"sequence":') + 20  # what the sequencer adds: at most 20 digits

_INSERT_PG = insert(QUEUE).values(txid=cast(cast(func.pg_current_xact_id(), Text), BigInteger))
_INSERT_OTHER = insert(QUEUE).values(txid=0)


def enqueue(
    session: Session,
    *,
    type: str,
    subject_user_id: int | None,
    payload: Mapping,
    ref_id: int | None = None,
) -> None:
    """Queue one event for the log inside the caller's transaction (no flush of the
    session's other work needed: one INSERT on its connection)."""
    _check_event(type, payload)
    subject = pseudonym(session, subject_user_id) if subject_user_id is not None else None
    body = canonical_json(payload)
    moment = now()
    if len(content_bytes(type, format_time(moment), subject, body)) + _SEQUENCE_ROOM > (
        MAX_PAYLOAD_BYTES
    ):
        raise ValidationFailed(f"a log entry is at most {MAX_PAYLOAD_BYTES} bytes")
    connection = session.connection()
    statement = _INSERT_PG if connection.dialect.name == "postgresql" else _INSERT_OTHER
    connection.execute(
        statement,
        {
            "event_type": type,
            "subject": subject,
            "payload": body,
            "ref_id": ref_id,
            "queued_at": moment,
        },
    )


@dataclass(frozen=True)
class LeafTemplate:
    """A leaf to queue in the same statement that creates the row it is about: its payload
    is `head`, then the decimal digits of the id the database gives that row, then `tail`.
    The subject is empty (the ledger's leaves name no person)."""

    event_type: str
    head: bytes
    tail: bytes
    queued_at: datetime


def template(type: str, payload: Mapping, id_key: str) -> LeafTemplate:
    """The checked leaf for `payload` plus `id_key` = an id not known yet. Canonical JSON
    writes an integer as its digits, so splitting the bytes made with the largest id the
    log takes leaves exactly what goes around any id; the size check runs on that largest
    id. A key occurs once in an object, and a string value's quotes are escaped, so the
    split point is unique."""
    widest = {**payload, id_key: MAX_SAFE_INTEGER}
    _check_event(type, widest)
    body = canonical_json(widest)
    moment = now()
    if len(content_bytes(type, format_time(moment), None, body)) + _SEQUENCE_ROOM > (
        MAX_PAYLOAD_BYTES
    ):
        raise ValidationFailed(f"a log entry is at most {MAX_PAYLOAD_BYTES} bytes")
    key = canonical_json({id_key: 0})[1:-2]  # the key as canonical JSON writes it, and ':'
    head, tail = body.split(key + str(MAX_SAFE_INTEGER).encode())
    return LeafTemplate(type, head + key, tail, moment)


@dataclass(frozen=True)
class QueueState:
    waiting: int
    oldest_queued_at: datetime | None


def _waiting(session: Session):
    """SQL condition: a queued leaf the sequencer has yet to integrate.

    Not merely "no leaf names it": a leaf deleted from the log must not pass for one still
    waiting. Everything at or before the head's cursor was integrated, and within one
    transaction's rows the sequencer integrates in id order, so a row with a later
    integrated sibling was integrated too."""
    cursor = session.execute(
        select(LogHead.queue_txid, LogHead.queue_id).where(LogHead.id == HEAD_ID)
    ).first() or (0, 0)
    later = aliased(QueuedLeaf)
    integrated = select(LogLeaf.queue_id).where(LogLeaf.queue_id == QueuedLeaf.id).exists()
    sibling_integrated = (
        select(later.id)
        .join(LogLeaf, LogLeaf.queue_id == later.id)
        .where(later.txid == QueuedLeaf.txid, later.id > QueuedLeaf.id)
        .exists()
    )
    return and_(
        tuple_(QueuedLeaf.txid, QueuedLeaf.id) > tuple_(*cursor),
        ~integrated,
        ~sibling_integrated,
    )


def queue_state(session: Session) -> QueueState:
    """How many committed leaves wait for the sequencer, and since when the oldest."""
    count, oldest = session.execute(
        select(func.count(QueuedLeaf.id), func.min(QueuedLeaf.queued_at)).where(_waiting(session))
    ).one()
    return QueueState(int(count or 0), oldest)


def oldest_wait(session: Session, moment: datetime) -> timedelta:
    """How long the oldest waiting leaf has waited at `moment` (zero if none waits)."""
    oldest = queue_state(session).oldest_queued_at
    return max(moment - oldest, timedelta(0)) if oldest is not None else timedelta(0)


def waiting_entries(session: Session, event_type: str) -> list[tuple[int, int | None, bytes]]:
    """(queue id, ref id, payload JSON) of the leaves of `event_type` not yet integrated."""
    rows = session.execute(
        select(QueuedLeaf.id, QueuedLeaf.ref_id, QueuedLeaf.payload)
        .where(QueuedLeaf.event_type == event_type, _waiting(session))
        .order_by(QueuedLeaf.id)
    )
    return [(queue_id, ref_id, bytes(payload)) for queue_id, ref_id, payload in rows]


def content_of(row: QueuedLeaf) -> bytes:
    """The queued leaf's content: its data as it will be, without the sequence."""
    time_text = format_time(row.queued_at)
    return content_bytes(row.event_type, time_text, row.subject, bytes(row.payload))


def promise_for(
    session: Session,
    signer: Signer,
    origin: str,
    *,
    event_type: str,
    ref_id: int,
    max_merge_delay: timedelta = DEFAULT_MAX_MERGE_DELAY,
) -> tuple[Promise, int | None]:
    """The signed promise for the leaf of `event_type` about the caller's row `ref_id`,
    and the leaf's index once integrated (None while it waits). Signed on request: Ed25519
    is deterministic, so every request gets the same promise, and posting pays nothing."""
    row = session.scalar(
        select(QueuedLeaf)
        .where(QueuedLeaf.event_type == event_type, QueuedLeaf.ref_id == ref_id)
        .order_by(QueuedLeaf.id)
        .limit(1)
    )
    if row is None:
        raise NotFound("This record has no queued leaf in the trust log.")
    digest = hashlib.sha256(content_of(row)).digest()
    promise = sign_promise(signer, origin, digest, row.queued_at, row.queued_at + max_merge_delay)
    index = session.scalar(select(LogLeaf.sequence).where(LogLeaf.queue_id == row.id))
    return promise, index
