"""Secrets kept in the instance folder outside production, shared by every process.

Several gunicorn workers (and the CLI, and workers started later) must agree on one value
for the session-signing key and the trust log's development keys. The first process to
need a value writes it; everyone else reads that file. The file appears in one step (a
complete temporary file hard-linked to its final name), so a process that starts at the
same moment never reads a half-written or empty file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The file's content, or `make()` written once with mode 0600 if there is no file.

    Two processes racing both make a value, but only one link succeeds; the loser reads
    the winner's file, so both return the same value."""
    existing = _read(path)
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make().strip()
    if not value:
        raise ValueError(f"refusing to write an empty value to {path.name}")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # fails if another process got there first
        except FileExistsError:
            winner = _read(path)
            if not winner:
                raise RuntimeError(f"{path} exists but is empty; delete it and restart") from None
            return winner
        return value
    finally:
        os.unlink(temporary)


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
