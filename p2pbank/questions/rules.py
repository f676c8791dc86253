"""The answer clock and the 24-hour answer rate; pure."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

ANSWER_WINDOW = timedelta(hours=24)
SUBJECTS = ("listing", "campaign")
QUESTION_MAX = 1_000
ANSWER_MAX = 2_000


def hours_between(start: datetime, end: datetime) -> int:
    """Whole hours from start to end (never negative): "answered in 3 h"."""
    return max(int((end - start).total_seconds() // 3600), 0)


def answered_in_time(asked_at: datetime, answered_at: datetime | None) -> bool:
    return answered_at is not None and answered_at - asked_at <= ANSWER_WINDOW


def within_window_share(
    pairs: Iterable[tuple[datetime, datetime | None]], now: datetime
) -> tuple[int, int]:
    """(answered within 24 h, questions that count) over (asked_at, answered_at) pairs. A
    question counts once it is answered or its 24 hours are over, so a fresh question
    never lowers anyone's rate before they had their chance."""
    answered = counted = 0
    for asked_at, answered_at in pairs:
        if answered_at is None and now - asked_at < ANSWER_WINDOW:
            continue
        counted += 1
        answered += answered_in_time(asked_at, answered_at)
    return answered, counted
