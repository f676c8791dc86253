"""A member's public profile (grade, history, recent ratings, detail averages) and the
summary on their dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank import reputation as scores
from p2pbank.trust.models import (
    Detail,
    Rating,
    RevisionRequest,
    RevisionStatus,
    ScoreSnapshot,
)
from p2pbank.trust.queries import (
    display_names,
    latest_snapshot,
    member_or_404,
    member_reputation,
    published_grade,
    visible,
)
from p2pbank.trust.read.ratings import pending_ratings
from p2pbank.trust.read.shown import ShownRating, rated_count, rating_counts, shown_rating

RECENT_RATINGS = 20


@dataclass(frozen=True)
class GradeView:
    grade: str
    points: float
    reasons: tuple[str, ...]
    version: str
    as_of: datetime | None  # None: computed now, not published yet


@dataclass(frozen=True)
class HistoryPoint:
    as_of: datetime
    grade: str
    feedback_score: int
    star_tier: str
    percent_positive_bps: int | None


@dataclass(frozen=True)
class MemberProfile:
    user_id: int
    display_name: str
    member_since: datetime
    kyc_verified: bool
    feedback_score: int
    star_tier: str
    positives: int
    neutrals: int
    negatives: int
    completed: int
    percent_positive: float | None
    effective_percent_positive: float | None
    wilson: float
    details: dict[str, float]  # average stars by detail, over the last 12 months
    grade: GradeView
    recent: list[ShownRating]
    history: list[HistoryPoint]
    score_version: str = scores.SCORE_VERSION


def member_profile(session: Session, user_id: int, moment: datetime | None = None) -> MemberProfile:
    """What every member may see about another: scores, grade with reasons, ratings."""
    moment = moment or clock.now()
    user = member_or_404(session, user_id)
    reputation = member_reputation(session, user_id, moment)
    snapshot = latest_snapshot(session, user_id)
    if snapshot is not None:
        grade = GradeView(
            snapshot.grade,
            snapshot.grade_points_bps / 100,
            snapshot.reasons,
            snapshot.score_version,
            snapshot.as_of,
        )
    else:
        live = reputation.grade
        grade = GradeView(live.grade, live.points, live.reasons, live.version, None)
    start = scores.months_before(moment, 12)
    recent_rows = list(
        session.scalars(
            select(Rating)
            .where(Rating.ratee_id == user_id, visible(moment), Rating.submitted_at >= start)
            .order_by(Rating.submitted_at.desc(), Rating.id.desc())
            .limit(RECENT_RATINGS)
        )
    )
    raters = [r.rater_id for r in recent_rows]
    names = display_names(session, [*raters, user_id])
    counts = rating_counts(session, moment, raters)  # the raters' own ratings received
    credibility = {
        uid: scores.wilson_lower_bound(pos, pos + neg) for uid, (pos, _neu, neg) in counts.items()
    }
    # Most recent first, then the most credible raters first (a stable sort keeps recency).
    ranked = scores.rank_by_wilson(
        (r, counts.get(r.rater_id, (0, 0, 0))[0], rated_count(counts.get(r.rater_id, (0, 0, 0))))
        for r in recent_rows
    )
    recent = [shown_rating(r, names, credibility.get(r.rater_id, 0.0)) for r, _bound in ranked]
    percent = reputation.percent
    history = [
        HistoryPoint(s.as_of, s.grade, s.feedback_score, s.star_tier, s.percent_positive_bps)
        for s in session.scalars(
            select(ScoreSnapshot)
            .where(ScoreSnapshot.user_id == user_id)
            .order_by(ScoreSnapshot.id.desc())
            .limit(12)
        )
    ]
    return MemberProfile(
        user_id=user.id,
        display_name=user.display_name,
        member_since=user.created_at,
        kyc_verified=user.kyc_verified,
        feedback_score=reputation.feedback.score,
        star_tier=reputation.feedback.tier,
        positives=percent.positives,
        neutrals=percent.neutrals,
        negatives=percent.negatives,
        completed=percent.completed,
        percent_positive=percent.positive,
        effective_percent_positive=percent.effective,
        wilson=scores.wilson_lower_bound(percent.positives, percent.positives + percent.negatives),
        details=_detail_averages(session, user_id, moment),
        grade=grade,
        recent=recent,
        history=history,
    )


def _detail_averages(session: Session, user_id: int, moment: datetime) -> dict[str, float]:
    start = scores.months_before(moment, 12)
    columns = [func.avg(getattr(Rating, f"{d}_stars")) for d in Detail]
    row = session.execute(
        select(*columns).where(
            Rating.ratee_id == user_id, visible(moment), Rating.submitted_at >= start
        )
    ).one()
    return {
        str(d): round(float(avg), 2) for d, avg in zip(Detail, row, strict=True) if avg is not None
    }


@dataclass(frozen=True)
class Summary:
    pending: int
    revisions_to_answer: int
    feedback_score: int
    star_tier: str
    grade: str


def summary(session: Session, user_id: int) -> Summary:
    moment = clock.now()
    reputation = member_reputation(session, user_id, moment)
    to_answer = session.scalar(
        select(func.count(RevisionRequest.id))
        .join(Rating, Rating.id == RevisionRequest.rating_id)
        .where(Rating.rater_id == user_id, RevisionRequest.status == RevisionStatus.OPEN)
    )
    published = published_grade(session, user_id)
    return Summary(
        pending=len(pending_ratings(session, user_id, moment)),
        revisions_to_answer=int(to_answer or 0),
        feedback_score=reputation.feedback.score,
        star_tier=reputation.feedback.tier,
        grade=(published or reputation.grade).grade,
    )
