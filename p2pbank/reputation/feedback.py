"""Feedback from ratings: eBay's feedback score and stars, and percent positive over twelve
months (with Nosko & Tadelis' effective percent positive)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from p2pbank.reputation.basis import SCORE_VERSION, MemberId, months_before


@dataclass(frozen=True, slots=True)
class Rating:
    """One party's rating of the other after a completed transaction."""

    rater_id: MemberId
    ratee_id: MemberId
    value: int  # +1 positive, 0 neutral, -1 negative
    time: datetime

    def __post_init__(self) -> None:
        if self.value not in (-1, 0, 1):
            raise ValueError(f"rating value must be -1, 0 or +1, not {self.value!r}")


# eBay's star thresholds (eBay Help, "Feedback stars"): a star from a score of 10, its
# colour changing at 50, 100, 500, 1,000 and 5,000. eBay's shooting stars from 10,000 are
# left out on purpose: "green" is our top tier.
STAR_TIERS: tuple[tuple[int, str], ...] = (
    (5000, "green"),
    (1000, "red"),
    (500, "purple"),
    (100, "turquoise"),
    (50, "blue"),
    (10, "yellow"),
)
NO_STAR = "none"


@dataclass(frozen=True, slots=True)
class FeedbackScore:
    score: int
    tier: str
    version: str = SCORE_VERSION


def star_tier(score: int) -> str:
    """The eBay star colour for a feedback score ("none" below 10)."""
    for threshold, name in STAR_TIERS:
        if score >= threshold:
            return name
    return NO_STAR


def feedback_score(ratings: Iterable[Rating], ratee_id: MemberId) -> FeedbackScore:
    """eBay's lifetime score: +1/0/-1 per rating, one point per counterparty per ISO week.

    Ratings from one rater in one ISO week (Monday to Sunday) are netted, then clamped to
    -1..+1, so a busy counterparty cannot pump (or sink) a score within a week.
    """
    net: dict[tuple[MemberId, int, int], int] = {}
    for rating in ratings:
        if rating.ratee_id != ratee_id or rating.rater_id == ratee_id:
            continue
        year, week, _ = rating.time.isocalendar()
        key = (rating.rater_id, year, week)
        net[key] = net.get(key, 0) + rating.value
    score = sum(max(-1, min(1, points)) for points in net.values())
    return FeedbackScore(score=score, tier=star_tier(score))


@dataclass(frozen=True, slots=True)
class PercentPositive:
    """Counts over the last 12 months and two shares in 0..1 (x100 to show as a percent).

    `positive` is eBay's positives / (positives + negatives); `effective` is positives /
    completed transactions (Nosko & Tadelis 2015, "effective percent positive"), so a
    transaction the counterparty chose not to rate counts against the member. Either is
    None when its denominator is zero.
    """

    positives: int
    neutrals: int
    negatives: int
    completed: int
    positive: float | None
    effective: float | None
    version: str = SCORE_VERSION


def percent_positive(
    ratings: Iterable[Rating],
    ratee_id: MemberId,
    completed: int | Iterable[datetime],
    now: datetime,
) -> PercentPositive:
    """Percent positive and effective percent positive over [now - 12 months, now].

    `completed` is either the number of the member's transactions completed in the window
    or their completion times (filtered to the window here). A rating implies a completed
    transaction, so the denominator is never taken below the number of ratings counted.
    """
    start = months_before(now, 12)
    counts = {1: 0, 0: 0, -1: 0}
    for rating in ratings:
        if rating.ratee_id != ratee_id or rating.rater_id == ratee_id:
            continue
        if start <= rating.time <= now:
            counts[rating.value] += 1
    if isinstance(completed, int):
        done = completed
    else:
        done = sum(1 for time in completed if start <= time <= now)
    positives, negatives = counts[1], counts[-1]
    done = max(done, positives + counts[0] + negatives)
    return PercentPositive(
        positives=positives,
        neutrals=counts[0],
        negatives=negatives,
        completed=done,
        positive=_share(positives, positives + negatives),
        effective=_share(positives, done),
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
