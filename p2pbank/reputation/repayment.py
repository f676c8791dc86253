"""Repayment reputation: the Beta reputation system over hard repayment facts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from p2pbank.reputation.basis import MONTH, SCORE_VERSION, months_before


class EventKind(StrEnum):
    ON_TIME = "on_time"  # an instalment paid by its due date
    LATE = "late"  # an instalment paid late; days_late = how late (its worst)
    DEFAULT = "default"  # a loan declared in default
    CURED = "cured"  # a late instalment brought current; days_late = the lateness cured
    RECOVERED = "recovered"  # a defaulted loan later repaid in full


@dataclass(frozen=True, slots=True)
class RepaymentEvent:
    """A hard repayment fact emitted by lending: one per instalment outcome."""

    kind: EventKind
    days_late: int
    time: datetime

    def __post_init__(self) -> None:
        EventKind(self.kind)  # raises ValueError on an unknown kind
        if self.days_late < 0:
            raise ValueError("days_late cannot be negative")


DEFAULT_PENALTY = 10
GRACE_DAYS = 15


def late_penalty(days_late: int) -> int:
    """Failure weight s for a late instalment: up to 15 days is grace, then 1, 2, 4."""
    if days_late <= GRACE_DAYS:
        return 0
    if days_late <= 30:
        return 1
    if days_late <= 60:
        return 2
    return 4  # 61 days and beyond; a declared default is its own event (+10)


@dataclass(frozen=True, slots=True)
class RepaymentReputation:
    """Beta(r+1, s+1) evidence with its expectation and the counts the grade explains."""

    r: float
    s: float
    expectation: float
    events: int
    on_time: int
    late_last_12_months: int
    late_older: int
    defaults_last_36_months: int
    version: str = SCORE_VERSION

    @property
    def has_history(self) -> bool:
        return self.events > 0


def repayment_reputation(
    events: Iterable[RepaymentEvent], now: datetime, forgetting: float = 0.98
) -> RepaymentReputation:
    """Expectation (r+1)/(r+s+2) of Beta(r+1, s+1), each event aged by forgetting**months.

    Source: Josang & Ismail, "The Beta Reputation System" (Bled eCommerce 2002), including
    its forgetting factor. Evidence: on time r += 1; late 16-30 days s += 1, 31-60 s += 2,
    61+ s += 4; default s += 10. Cure rule: a cured late adds r += half the penalty it
    cured, and a recovered default r += 5, so recovery helps but never erases the failure.
    Events dated after `now` are ignored. No events gives 0.5: nothing is known.
    """
    if not 0 < forgetting <= 1:
        raise ValueError("forgetting must be in (0, 1]")
    year_ago, three_years_ago = months_before(now, 12), months_before(now, 36)
    r = s = 0.0
    counted = on_time = late_recent = late_older = defaults = 0
    for event in events:
        if event.time > now:
            continue
        weight = forgetting ** ((now - event.time) / MONTH)
        success, failure = _evidence(event)
        r += weight * success
        s += weight * failure
        counted += 1
        on_time += event.kind == EventKind.ON_TIME
        if event.kind == EventKind.LATE and late_penalty(event.days_late):
            if event.time >= year_ago:
                late_recent += 1
            else:
                late_older += 1
        defaults += event.kind == EventKind.DEFAULT and event.time >= three_years_ago
    return RepaymentReputation(
        r=r,
        s=s,
        expectation=(r + 1) / (r + s + 2),
        events=counted,
        on_time=on_time,
        late_last_12_months=late_recent,
        late_older=late_older,
        defaults_last_36_months=defaults,
    )


def _evidence(event: RepaymentEvent) -> tuple[float, float]:
    """(success, failure) evidence of one event before forgetting."""
    match event.kind:
        case EventKind.ON_TIME:
            return 1.0, 0.0
        case EventKind.LATE:
            return 0.0, float(late_penalty(event.days_late))
        case EventKind.DEFAULT:
            return 0.0, float(DEFAULT_PENALTY)
        case EventKind.CURED:
            return late_penalty(event.days_late) / 2, 0.0
        case EventKind.RECOVERED:
            return DEFAULT_PENALTY / 2, 0.0
    raise ValueError(f"unknown repayment event kind {event.kind!r}")
