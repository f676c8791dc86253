"""A rating as others see it, and the counts of a member's ratings: shared by the profile
and a person's own ratings page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from p2pbank import reputation as scores
from p2pbank.trust.models import (
    Rating,
)
from p2pbank.trust.queries import visible


@dataclass(frozen=True)
class ShownRating:
    """A rating as others see it."""

    id: int
    rater_id: int
    rater_name: str
    ratee_id: int
    ratee_name: str
    ratee_side: str
    value: str
    comment: str
    details: dict[str, int]
    submitted_at: datetime
    revised: bool
    rater_wilson: float = 0.0


def shown_rating(rating: Rating, names: dict[int, str], wilson: float = 0.0) -> ShownRating:
    return ShownRating(
        id=rating.id,
        rater_id=rating.rater_id,
        rater_name=names.get(rating.rater_id, ""),
        ratee_id=rating.ratee_id,
        ratee_name=names.get(rating.ratee_id, ""),
        ratee_side=rating.ratee_side,
        value=rating.value_name,
        comment=rating.comment,
        details=rating.details,
        submitted_at=rating.submitted_at,
        revised=rating.revised_at is not None,
        rater_wilson=wilson,
    )


def rated_count(counts: tuple[int, int, int]) -> int:
    """Positives plus negatives: what a Wilson bound is taken over (neutrals sit out)."""
    positives, _neutrals, negatives = counts
    return positives + negatives


def rating_counts(
    session: Session, moment: datetime, user_ids: Iterable[int] | None = None
) -> dict[int, tuple[int, int, int]]:
    """(positives, neutrals, negatives) received in the 12 months before `moment`."""
    start = scores.months_before(moment, 12)
    query = (
        select(
            Rating.ratee_id,
            func.sum(case((Rating.value == 1, 1), else_=0)),
            func.sum(case((Rating.value == 0, 1), else_=0)),
            func.sum(case((Rating.value == -1, 1), else_=0)),
        )
        .where(visible(moment), Rating.submitted_at >= start, Rating.submitted_at <= moment)
        .group_by(Rating.ratee_id)
    )
    if user_ids is not None:
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        query = query.where(Rating.ratee_id.in_(wanted))
    return {uid: (int(p), int(n), int(m)) for uid, p, n, m in session.execute(query)}
