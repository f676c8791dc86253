"""The auditor's log explorer: entries newest first, filtered by pseudonym or type, paged
by sequence cursors so a page costs the same at any depth of a log of millions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.audit.models import LogLeaf
from p2pbank.audit.stored_tree import head_size


@dataclass(frozen=True)
class ExplorerPage:
    leaves: list[LogLeaf]
    newer: int | None  # pass as after= to see newer entries
    older: int | None  # pass as before= to see older entries
    size: int


def explore(
    session: Session,
    *,
    subject: str | None = None,
    event_type: str | None = None,
    before: int | None = None,
    after: int | None = None,
    per_page: int = 50,
) -> ExplorerPage:
    """Entries newest first, filtered by pseudonym and/or type, paged by sequence cursors."""
    query = base = select(LogLeaf)
    if subject:
        query = base = query.where(LogLeaf.subject == subject.strip().lower())
    if event_type:
        query = base = query.where(LogLeaf.event_type == event_type.strip())
    if after is not None:
        rows = list(
            session.scalars(
                query.where(LogLeaf.sequence > after)
                .order_by(LogLeaf.sequence.asc())
                .limit(per_page + 1)
            )
        )
        more_newer = len(rows) > per_page
        leaves = list(reversed(rows[:per_page]))
        newer = leaves[0].sequence if more_newer and leaves else None
        older = leaves[-1].sequence if leaves else None
    else:
        if before is not None:
            query = query.where(LogLeaf.sequence < before)
        rows = list(session.scalars(query.order_by(LogLeaf.sequence.desc()).limit(per_page + 1)))
        leaves = rows[:per_page]
        older = leaves[-1].sequence if len(rows) > per_page else None
        newer = leaves[0].sequence if before is not None and leaves else None
    if older is not None and not _exists(session, base, LogLeaf.sequence < older):
        older = None
    if newer is not None and not _exists(session, base, LogLeaf.sequence > newer):
        newer = None
    return ExplorerPage(leaves, newer, older, head_size(session))


def _exists(session: Session, query, condition) -> bool:
    return session.scalar(query.where(condition).limit(1)) is not None
