"""The command boundary: one command, one transaction, through one helper.

`with command(session):` commits at the end and rolls back on any error, so a command
never leaves half its writes behind. Lending, trust, crowdfunding and questions commands
all go through it (none keeps its own copy)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session


@contextmanager
def command(session: Session) -> Iterator[None]:
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise
