"""Shapes of the auditor API and the audit pages' inputs (marshmallow, no framework).

Hashes, proofs and entry data travel as standard base64, as in C2SP checkpoints; `data` is
the exact canonical JSON a leaf hash commits to, so a verifier hashes it byte for byte.
"""

from __future__ import annotations

import base64
import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

MAX_INDEX = 2**53 - 1
_COUNT = validate.Range(min=0, max=MAX_INDEX)
PSEUDONYM = re.compile(r"^[0-9a-f]{32}$")
EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class Base64Bytes(fields.String):
    """bytes out as standard base64 text (a string in the OpenAPI document)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else base64.b64encode(bytes(value)).decode()


# --- API ----------------------------------------------------------------------------------


class LogCheckpointOut(Schema):
    origin = fields.String()
    tree_size = fields.Integer()
    root_hash = Base64Bytes(metadata={"description": "MTH of the first tree_size entries"})
    key_name = fields.String()
    key_id = fields.String(metadata={"description": "hex of the 4-byte note key id"})
    signed_at = fields.DateTime()
    note = fields.String(
        metadata={"description": "The C2SP signed note: verify this, not the fields above."}
    )


class LogEntriesArgs(Schema):
    start = fields.Integer(required=True, validate=_COUNT)
    end = fields.Integer(required=True, validate=_COUNT)

    @validates_schema
    def _ordered(self, data, **_kw):
        if data["end"] < data["start"]:
            raise ValidationError("end must not be below start.", field_name="end")


class LogEntryOut(Schema):
    index = fields.Integer(attribute="sequence")
    type = fields.String(attribute="event_type")
    time = fields.DateTime(attribute="recorded_at")
    subject = fields.String(allow_none=True, metadata={"description": "member pseudonym"})
    data = Base64Bytes(metadata={"description": "the leaf: RFC 8785 canonical JSON"})
    leaf_hash = Base64Bytes(metadata={"description": "SHA-256(0x00 || data)"})
    signature = Base64Bytes(
        allow_none=True,
        metadata={
            "description": "Ed25519 signature by the log's key over the leaf statement "
            "(p2pbank.audit.leaf_signatures); null until a checkpoint covers the entry"
        },
    )
    integrated_at = fields.DateTime(
        allow_none=True,
        metadata={
            "description": "when the sequencer put the entry into the tree (its `time` is when "
            "it was queued); within the log's maximum merge delay of that time"
        },
    )


class LogEntriesOut(Schema):
    start = fields.Integer()
    end = fields.Integer(metadata={"description": "exclusive; clipped to the log and page"})
    tree_size = fields.Integer(metadata={"description": "entries in the log now"})
    entries = fields.List(fields.Nested(LogEntryOut))


class InclusionProofArgs(Schema):
    index = fields.Integer(required=True, validate=_COUNT)
    size = fields.Integer(required=True, validate=_COUNT)


class InclusionProofOut(Schema):
    index = fields.Integer()
    tree_size = fields.Integer()
    leaf_hash = Base64Bytes()
    proof = fields.List(Base64Bytes(), attribute="path")
    root_hash = Base64Bytes(metadata={"description": "unsigned convenience; check a checkpoint"})


class ConsistencyProofArgs(Schema):
    old = fields.Integer(required=True, validate=_COUNT)
    new = fields.Integer(required=True, validate=_COUNT)


class ConsistencyProofOut(Schema):
    old_size = fields.Integer()
    new_size = fields.Integer()
    proof = fields.List(Base64Bytes(), attribute="path")
    old_root = Base64Bytes()
    new_root = Base64Bytes()


class LogKeyOut(Schema):
    vkey = fields.String(metadata={"description": "C2SP note verifier key: name+id+base64"})
    name = fields.String()
    key_id = fields.String()
    algorithm = fields.String()
    max_merge_delay_seconds = fields.Integer(
        metadata={
            "description": "the published maximum merge delay: a queued entry is in the log "
            "within this many seconds of its time"
        }
    )


# --- pages --------------------------------------------------------------------------------


def _empty_to_none(value):
    return None if value in ("", None) else value


class ExplorerArgs(Schema):
    subject = fields.String(
        load_default=None,
        validate=validate.Regexp(PSEUDONYM, error="A pseudonym is 32 hexadecimal digits."),
    )
    type = fields.String(
        load_default=None,
        validate=validate.Regexp(EVENT_TYPE, error="An event type looks like kyc.verified."),
    )
    before = fields.Integer(load_default=None, validate=_COUNT)
    after = fields.Integer(load_default=None, validate=_COUNT)


class ProofIn(Schema):
    index = fields.Integer(required=True, validate=_COUNT)
    size = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_INDEX))

    @validates_schema
    def _inside(self, data, **_kw):
        if data["index"] >= data["size"]:
            raise ValidationError("The index must be below the tree size.", field_name="index")


def clean_args(raw: dict) -> dict:
    """Query strings send empty fields as ''; treat them as absent."""
    return {key: value for key, value in raw.items() if _empty_to_none(value) is not None}
