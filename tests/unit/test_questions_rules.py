"""The answer clock and the 24-hour answer rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from p2pbank.questions import rules

T = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_hours_are_whole_and_never_negative():
    assert rules.hours_between(T, T + 3 * H + timedelta(minutes=59)) == 3
    assert rules.hours_between(T, T - H) == 0


def test_the_window_is_24_hours_inclusive():
    assert rules.answered_in_time(T, T + 24 * H)
    assert not rules.answered_in_time(T, T + 24 * H + timedelta(seconds=1))
    assert not rules.answered_in_time(T, None)


def test_a_fresh_unanswered_question_does_not_count_yet():
    now = T + 30 * H
    pairs = [
        (T, T + 2 * H),  # answered in time
        (T, T + 26 * H),  # answered late
        (T, None),  # unanswered for 30 h: counts against
        (now - 5 * H, None),  # asked 5 h ago: not counted yet
    ]
    assert rules.within_window_share(pairs, now) == (1, 3)
    assert rules.within_window_share([], now) == (0, 0)
