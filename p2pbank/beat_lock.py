"""One beat at a time: a beat process waits here until it holds the platform's beat lock,
so a second beat (a standby, or one started by mistake) sends nothing until the first is
gone. On PostgreSQL a session advisory lock on a connection kept open for the process's
life (released by the server when the process dies); elsewhere an exclusive lock on a
file in the instance folder (one machine)."""

from __future__ import annotations

import fcntl
import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

log = logging.getLogger("p2pbank.beat")

LOCK_KEY = 0x70327062_6561  # "p2pbea": any constant the platform uses for nothing else
RETRY_SECONDS = 5.0

_held: list[Any] = []  # the connection or file that holds the lock, kept for the process


def hold(engine: Any, instance_path: str, *, retry: float = RETRY_SECONDS) -> None:
    """Return once this process holds the beat lock (waiting, logging, while another
    beat holds it). Holding it already (an embedded beat hears two start signals): done."""
    if _held:
        return
    warned = False
    while not _try(engine, instance_path):
        if not warned:
            log.warning("another beat holds the beat lock; this one waits as a standby")
            warned = True
        time.sleep(retry)
    log.info("this beat holds the beat lock")


def _try(engine: Any, instance_path: str) -> bool:
    if engine.dialect.name == "postgresql":
        connection = engine.connect()
        got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        connection.commit()
        if got:
            _held.append(connection)
            return True
        connection.close()
        return False
    path = Path(instance_path) / "beat.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return False
    _held.append(handle)
    return True


def release() -> None:
    """Let go (tests; a beat process simply exits)."""
    while _held:
        let_go(_held.pop())


def let_go(held: Any) -> None:
    """End what holds the lock: a connection is dropped, not returned to the pool (which
    would keep the server session, and its advisory lock, alive); a file is closed."""
    if hasattr(held, "invalidate"):
        held.invalidate()
    held.close()
