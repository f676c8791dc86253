"""Set and read runtime marks. `set_mark` commits on its own connection-level transaction
so a mark is never lost with (or holds up) the work it describes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.runtime.models import RuntimeMark

HEARTBEAT = "worker.heartbeat"
SCAN_PREFIX = "scan."


def set_mark(session: Session, name: str, at: datetime, detail: str = "") -> None:
    """Record that `name` happened at `at` (newer marks win; an older one is ignored).
    Commits."""
    try:
        row = session.get(RuntimeMark, name, with_for_update=True, populate_existing=True)
        if row is None:
            session.add(RuntimeMark(name=name, at=at, detail=detail[:500]))
        elif row.at <= at:
            row.at = at
            row.detail = detail[:500]
        session.commit()
    except BaseException:
        session.rollback()
        raise


def marks(session: Session) -> dict[str, RuntimeMark]:
    return {row.name: row for row in session.scalars(select(RuntimeMark))}


def mark(session: Session, name: str) -> RuntimeMark | None:
    return session.get(RuntimeMark, name)


def latest_scan(session: Session) -> RuntimeMark | None:
    """The most recently finished scan of due work, whichever kind."""
    return session.scalar(
        select(RuntimeMark)
        .where(RuntimeMark.name.startswith(SCAN_PREFIX))
        .order_by(RuntimeMark.at.desc())
        .limit(1)
    )
