"""The auditor's member score breakdown, read from the trust log alone.

It replays the log the way the outside verifier does (p2pbank.audit.replay) up to the
member's latest published scores, and shows every input each score was computed from:
the ratings received and how the weekly rule counted them, the 12-month counts, each
repayment fact with its weight, the network trust, the grade's points per factor and its
reasons -- next to what the platform published and what the log recomputes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank import reputation as scores
from p2pbank.audit import replay as log_rules
from p2pbank.audit.models import LogLeaf
from p2pbank.audit.queries import MAX_ENTRIES_PER_PAGE, entries, head_size
from p2pbank.audit.verify import parse_entry
from p2pbank.errors import NotFound
from p2pbank.identity.models import User
from p2pbank.permissions import Permission, require
from p2pbank.trust.queries import require_valid_subject


@dataclass(frozen=True)
class RatingInput:
    rater: str
    value: int
    submitted: datetime
    week: str  # ISO year-week the weekly rule groups by
    counted: int  # the points this rating's (rater, week) group adds, shown on its first row
    in_window: bool  # within the 12 months of the percentages


@dataclass(frozen=True)
class RepaymentInput:
    kind: str
    days_late: int
    time: datetime
    age_months: float
    weight: float
    success: float
    failure: float


@dataclass(frozen=True)
class Factor:
    name: str
    points: float
    maximum: int
    detail: str


@dataclass(frozen=True)
class Comparison:
    score: str
    published: object
    recomputed: object

    @property
    def agrees(self) -> bool:
        return self.published == self.recomputed


@dataclass
class Breakdown:
    subject: str
    as_of: datetime
    log_size: int
    published_at: int | None  # the log entry of the latest score.published, if any
    score_version: str
    kyc_verified_at: datetime | None
    ratings: list[RatingInput] = field(default_factory=list)
    completed: list[datetime] = field(default_factory=list)
    repayments: list[RepaymentInput] = field(default_factory=list)
    feedback_score: int = 0
    star_tier: str = scores.NO_STAR
    percent: scores.PercentPositive | None = None
    repayment: scores.RepaymentReputation | None = None
    trust_value: float = 0.0
    trust_percentile: float = 0.0
    network_members: int = 0
    history_months: float = 0.0
    factors: list[Factor] = field(default_factory=list)
    grade: scores.RiskGrade | None = None
    comparisons: list[Comparison] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)  # anywhere in the replayed log

    @property
    def all_agree(self) -> bool:
        return all(c.agrees for c in self.comparisons)


def _latest_publication(session: Session, subject: str) -> LogLeaf | None:
    return session.scalar(
        select(LogLeaf)
        .where(LogLeaf.subject == subject, LogLeaf.event_type == log_rules.SCORE_PUBLISHED)
        .order_by(LogLeaf.sequence.desc())
        .limit(1)
    )


def _events(session: Session, end: int):
    start = 0
    while start < end:
        leaves = entries(session, start, min(end, start + MAX_ENTRIES_PER_PAGE))
        if not leaves:
            return
        for leaf in leaves:
            event, _problem = parse_entry(leaf.sequence, bytes(leaf.data))
            if event is not None:
                yield event
        start = leaves[-1].sequence + 1


def member_breakdown(session: Session, actor: User, subject: str) -> Breakdown:
    """Auditors only: one pseudonym's scores and their inputs, from the log."""
    require(actor.role_names, Permission.READ_AUDIT_LOG, "The score breakdown is for auditors.")
    subject = require_valid_subject(subject)
    publication = _latest_publication(session, subject)
    end = publication.sequence + 1 if publication is not None else head_size(session)
    result = log_rules.replay(_events(session, end))
    state = result.state
    if subject not in state.members:
        raise NotFound("This pseudonym has no entries in the trust log.")
    published: dict = {}
    version = scores.SCORE_VERSION
    as_of = clock.now()
    if publication is not None:
        event, _problem = parse_entry(publication.sequence, bytes(publication.data))
        if event is not None:
            published = dict(event.payload.get("scores") or {})
            version = str(event.payload.get("score_version"))
            as_of = log_rules.parse_time(event.payload.get("as_of")) or event.time
    state.now = as_of
    facts = state.member(subject)
    reputation = log_rules.member_reputation(state, subject)
    network, percentiles = log_rules.network_trust(state.ratings_by_id, state.pretrusted)
    breakdown = Breakdown(
        subject=subject,
        as_of=as_of,
        log_size=end,
        published_at=publication.sequence if publication is not None else None,
        score_version=version,
        kyc_verified_at=facts.kyc_verified_at,
        completed=sorted(facts.completed),
        feedback_score=reputation.feedback.score,
        star_tier=reputation.feedback.tier,
        percent=reputation.percent,
        repayment=reputation.repayment,
        trust_value=network.trust.get(subject, 0.0),
        trust_percentile=percentiles.get(subject, 0.0),
        network_members=len(network.trust),
        history_months=reputation.history_months,
        grade=reputation.grade,
        differences=[str(d) for d in result.differences],
    )
    breakdown.ratings = _rating_inputs(facts.ratings_received, as_of)
    breakdown.repayments = _repayment_inputs(facts.repayments, as_of)
    breakdown.factors = _factors(reputation)
    recomputed = reputation.published()
    breakdown.comparisons = [
        Comparison(name, published.get(name), recomputed[name]) for name in sorted(recomputed)
    ]
    return breakdown


def _rating_inputs(ratings: list[scores.Rating], now: datetime) -> list[RatingInput]:
    """Each rating with the ISO week it falls in; the first row of each (rater, week)
    group carries what the group adds to the feedback score (net, clamped to -1..+1)."""
    start = scores.months_before(now, 12)
    ordered = sorted(ratings, key=lambda r: (r.time, str(r.rater_id)))
    nets: dict[tuple[str, int, int], int] = {}
    for rating in ordered:
        year, week, _ = rating.time.isocalendar()
        key = (str(rating.rater_id), year, week)
        nets[key] = nets.get(key, 0) + rating.value
    shown: set[tuple[str, int, int]] = set()
    rows = []
    for rating in ordered:
        year, week, _ = rating.time.isocalendar()
        key = (str(rating.rater_id), year, week)
        first = key not in shown
        shown.add(key)
        rows.append(
            RatingInput(
                rater=str(rating.rater_id),
                value=rating.value,
                submitted=rating.time,
                week=f"{year}-W{week:02d}",
                counted=max(-1, min(1, nets[key])) if first else 0,
                in_window=start <= rating.time <= now,
            )
        )
    return rows


def _repayment_inputs(
    events: list[scores.RepaymentEvent], now: datetime, forgetting: float = 0.98
) -> list[RepaymentInput]:
    rows = []
    for event in sorted(events, key=log_rules.repayment_order):
        if event.time > now:
            continue
        age = (now - event.time) / scores.MONTH
        weight = forgetting**age
        success, failure = _evidence(event)
        rows.append(
            RepaymentInput(
                kind=str(event.kind),
                days_late=event.days_late,
                time=event.time,
                age_months=age,
                weight=weight,
                success=weight * success,
                failure=weight * failure,
            )
        )
    return rows


def _evidence(event: scores.RepaymentEvent) -> tuple[float, float]:
    """(success, failure) before forgetting, as scores.repayment_reputation counts them."""
    penalty = scores.late_penalty(event.days_late)
    return {
        scores.EventKind.ON_TIME: (1.0, 0.0),
        scores.EventKind.LATE: (0.0, float(penalty)),
        scores.EventKind.DEFAULT: (0.0, float(scores.DEFAULT_PENALTY)),
        scores.EventKind.CURED: (penalty / 2, 0.0),
        scores.EventKind.RECOVERED: (scores.DEFAULT_PENALTY / 2, 0.0),
    }[scores.EventKind(event.kind)]


def _factors(reputation: log_rules.Reputation) -> list[Factor]:
    """The grade's points by factor, as scores.risk_grade adds them."""
    percent = reputation.percent
    rated = percent.positives + percent.negatives
    wilson = scores.wilson_lower_bound(percent.positives, rated)
    months = reputation.history_months
    return [
        Factor(
            "repayment",
            50 * reputation.repayment.expectation,
            50,
            f"50 x (r+1)/(r+s+2) = 50 x {reputation.repayment.expectation:.4f}",
        ),
        Factor(
            "network trust",
            20 * min(max(reputation.trust_percentile, 0.0), 1.0),
            20,
            f"20 x percentile {reputation.trust_percentile:.4f}",
        ),
        Factor(
            "feedback",
            15 * wilson,
            15,
            f"15 x Wilson lower bound of {percent.positives} of {rated} = 15 x {wilson:.4f}",
        ),
        Factor(
            "history",
            15 * min(max(months, 0.0) / scores.HISTORY_FULL_MONTHS, 1.0),
            15,
            f"15 x min({months:.2f} months / {scores.HISTORY_FULL_MONTHS}, 1)",
        ),
    ]
