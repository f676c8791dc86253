"""The one source of 'now', so tests and demos can move time forward."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None
# Called with the time that is ending, before the clock moves (see `watching`).
_listeners: list[Callable[[datetime], None]] = []


def now() -> datetime:
    """Current time, timezone-aware UTC; the frozen value when one is set."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def set_now(value: datetime | None) -> None:
    """Freeze time at `value` (aware UTC) or unfreeze with None."""
    global _frozen
    if value is not None and value.tzinfo is None:
        raise ValueError("clock times must be timezone-aware")
    for listener in list(_listeners):
        listener(now())
    _frozen = value


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward (freezing it at the current time first)."""
    set_now(now() + delta)
    return now()


@contextmanager
def frozen_at(value: datetime) -> Iterator[None]:
    previous = _frozen
    set_now(value)
    try:
        yield
    finally:
        set_now(previous)


@contextmanager
def watching(listener: Callable[[datetime], None]) -> Iterator[None]:
    """Call `listener(moment)` before each move of the clock, with the time that ends: the
    demo, which replays months of history, lets the trust log's sequencer catch up then."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)
