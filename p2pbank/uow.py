"""The command boundary: one command, one transaction, through one helper.

`with command(session):` commits at the end and rolls back on any error, so a command
never leaves half its writes behind. Lending, trust, crowdfunding and questions commands
all go through it (none keeps its own copy)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

T = TypeVar("T", bound=tuple[Any, ...])


@contextmanager
def command(session: Session) -> Iterator[None]:
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def for_update(stmt: Select[T]) -> Select[T]:
    """Lock the selected rows until the command ends (SELECT ... FOR UPDATE; SQLite's write
    lock serializes instead) and read them fresh: an ORM copy loaded earlier in the
    session would otherwise keep the values it had before the lock was taken."""
    return stmt.with_for_update().execution_options(populate_existing=True)
