"""Signed promises of inclusion for queued leaves, and the leaf bytes the sequencer writes.

Pure: no database, no framework. A leaf's data is the RFC 8785 canonical JSON of
{payload, sequence, subject, time, type}; its sequence number is only known when the
sequencer integrates it, so a promise cannot sign the Merkle leaf hash. It signs the
leaf's *content hash* instead: SHA-256 of the same canonical JSON without "sequence".
Anyone holding a leaf's data recomputes both (`content_hash_of_leaf`).

A promise, in the spirit of Certificate Transparency's signed certificate timestamps, says:
the log `origin` accepted a leaf with this content hash at `queued_at` and will integrate it
by `integrate_by` (queue time plus the maximum merge delay). It is signed with the log's
Ed25519 key over a binary statement that starts with a NUL byte, so it can never be taken
for a signed note or a leaf signature by the same key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

from p2pbank.audit.note import Signer, Verifier

PROMISE_LABEL = b"\x00p2pbank/audit/promise/v1\x00"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- the bytes of a queued leaf -----------------------------------------------------------


def _text(value: str | None) -> bytes:
    """A JSON string of characters that need no escaping (types, pseudonyms, times)."""
    return b"null" if value is None else b'"' + value.encode("ascii") + b'"'


def content_bytes(event_type: str, time_text: str, subject: str | None, payload: bytes) -> bytes:
    """Canonical JSON of {payload, subject, time, type}: the leaf without its sequence."""
    return (
        b'{"payload":'
        + payload
        + b',"subject":'
        + _text(subject)
        + b',"time":'
        + _text(time_text)
        + b',"type":'
        + _text(event_type)
        + b"}"
    )


def leaf_bytes(
    sequence: int, event_type: str, time_text: str, subject: str | None, payload: bytes
) -> bytes:
    """The leaf's data: the same canonical JSON with "sequence" in its sorted place.

    `payload` is the payload's own canonical JSON; RFC 8785 serialises a nested object the
    same wherever it stands, and the keys here sort as written, so splicing gives exactly
    the bytes canonicalising the whole document would."""
    return (
        b'{"payload":'
        + payload
        + b',"sequence":'
        + str(sequence).encode()
        + b',"subject":'
        + _text(subject)
        + b',"time":'
        + _text(time_text)
        + b',"type":'
        + _text(event_type)
        + b"}"
    )


def content_hash_of_leaf(data: bytes) -> bytes | None:
    """The content hash of a leaf's data (None if the data is not a JSON object)."""
    try:
        document = json.loads(bytes(data).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(document, dict):
        return None
    document.pop("sequence", None)
    try:
        return hashlib.sha256(rfc8785.dumps(document)).digest()
    except Exception:  # a value canonical JSON cannot carry
        return None


# --- promises -----------------------------------------------------------------------------


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are refused")
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def promise_statement(
    origin: str, content_hash: bytes, queued_at: datetime, integrate_by: datetime
) -> bytes:
    """What the log signs for a promise."""
    if len(content_hash) != 32:
        raise ValueError("a content hash has 32 bytes")
    return (
        PROMISE_LABEL
        + origin.encode()
        + b"\x00"
        + bytes(content_hash)
        + _micros(queued_at).to_bytes(8, "big")
        + _micros(integrate_by).to_bytes(8, "big")
    )


@dataclass(frozen=True, slots=True)
class Promise:
    origin: str
    key_id: str  # hex of the note key id
    content_hash: bytes
    queued_at: datetime
    integrate_by: datetime
    signature: bytes

    def statement(self) -> bytes:
        return promise_statement(self.origin, self.content_hash, self.queued_at, self.integrate_by)

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "key_id": self.key_id,
            "content_hash": base64.b64encode(self.content_hash).decode(),
            "queued_at": self.queued_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "integrate_by": self.integrate_by.astimezone(UTC).isoformat(timespec="microseconds"),
            "signature": base64.b64encode(self.signature).decode(),
        }


def sign_promise(
    signer: Signer, origin: str, content_hash: bytes, queued_at: datetime, integrate_by: datetime
) -> Promise:
    statement = promise_statement(origin, content_hash, queued_at, integrate_by)
    return Promise(
        origin,
        signer.key_id.hex(),
        bytes(content_hash),
        queued_at,
        integrate_by,
        signer.sign(statement),
    )


def promise_from_json(document: object) -> Promise:
    """A promise as the API serves it; ValueError naming what is malformed."""
    if not isinstance(document, dict):
        raise ValueError("a promise is a JSON object")
    try:
        content = base64.b64decode(document["content_hash"], validate=True)
        signature = base64.b64decode(document["signature"], validate=True)
        queued_at = datetime.fromisoformat(document["queued_at"])
        integrate_by = datetime.fromisoformat(document["integrate_by"])
        origin, key_id = document["origin"], document["key_id"]
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise ValueError(f"malformed promise: {exc}") from exc
    if not isinstance(origin, str) or not isinstance(key_id, str) or len(content) != 32:
        raise ValueError("malformed promise: origin, key id or content hash")
    if queued_at.tzinfo is None or integrate_by.tzinfo is None:
        raise ValueError("malformed promise: a time without a zone")
    return Promise(origin, key_id, content, queued_at, integrate_by, signature)


def promise_signed_by(promise: Promise, verifier: Verifier) -> bool:
    """Is the promise signed by this key (and made by it: the key ids agree)?"""
    if promise.key_id != verifier.key_id.hex():
        return False
    return verifier.verify(promise.statement(), promise.signature)
