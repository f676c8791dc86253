"""The outside verifier's memory between runs: the pinned key, the last checkpoint verified
and its leaf hashes, so a later run can prove the log only grew and name what changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from p2pbank.audit.note import Checkpoint
from p2pbank.audit.verify_report import Report
from p2pbank.audit.verify_source import SourceError, b64, json_count, unb64


@dataclass
class State:
    """What the last successful run verified: the key, the checkpoint and its leaf hashes.

    The JSON file holds key and checkpoint; `<file>.leaves` holds the 32-byte leaf hashes
    of that checkpoint back to back, so a later run can name exactly which entry changed.
    """

    vkey: str | None = None
    checkpoint: Checkpoint | None = None
    note: str = ""
    leaves: list[bytes] | None = None


def _leaves_path(path: Path) -> Path:
    return path.with_name(path.name + ".leaves")


def load_state(path: Path | None) -> State:
    if path is None or not path.exists():
        return State()
    try:
        document = json.loads(path.read_text())
        checkpoint = None
        if document.get("size") is not None:
            checkpoint = Checkpoint(
                document["origin"], json_count(document["size"]), unb64(document["root_hash"])
            )
    except (ValueError, KeyError, TypeError, SourceError) as exc:
        raise SourceError(f"the state file {path} is damaged: {exc}") from exc
    leaves = None
    if _leaves_path(path).exists():
        raw = _leaves_path(path).read_bytes()
        leaves = [raw[i : i + 32] for i in range(0, len(raw) - len(raw) % 32, 32)]
    return State(document.get("vkey"), checkpoint, document.get("note", ""), leaves)


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    temporary.replace(path)


def save_state(path: Path, vkey: str, report: Report) -> None:
    checkpoint = report.checkpoint
    assert checkpoint is not None
    document = {
        "vkey": vkey,
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root_hash": b64(checkpoint.root_hash),
        "note": report.note,
    }
    _replace(_leaves_path(path), b"".join(report.leaf_hashes[: checkpoint.size]))
    _replace(path, (json.dumps(document, indent=2) + "\n").encode())
