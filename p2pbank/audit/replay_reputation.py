"""Reputation: the one composition of p2pbank.reputation both the platform and the outside
verifier compute, so a score published in the log can be recomputed to the same number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from p2pbank import reputation as scores

if TYPE_CHECKING:
    from p2pbank.audit.replay_state import ReplayState


def repayment_order(event: scores.RepaymentEvent) -> tuple:
    """The one order repayment evidence is summed in, here and on the platform."""
    return (event.time, str(event.kind), event.days_late)


@dataclass(frozen=True, slots=True)
class Reputation:
    """Everything shown about one member at one moment, from the same inputs both ways."""

    feedback: scores.FeedbackScore
    percent: scores.PercentPositive
    repayment: scores.RepaymentReputation
    trust_percentile: float
    history_months: float
    grade: scores.RiskGrade

    def published(self) -> dict[str, object]:
        """The values a `score.published` entry carries (integers and strings only)."""
        return {
            "feedback_score": self.feedback.score,
            "star_tier": self.feedback.tier,
            "percent_positive_bps": bps(self.percent.positive),
            "effective_percent_positive_bps": bps(self.percent.effective),
            "repayment_expectation_bps": bps(self.repayment.expectation),
            "trust_percentile_bps": bps(self.trust_percentile),
            "grade": self.grade.grade,
            "grade_points_bps": round(self.grade.points * 100),
        }


def bps(share: float | None) -> int | None:
    return None if share is None else round(share * 10_000)


def reputation(
    pseudonym: str,
    ratings_received: Iterable[scores.Rating],
    completed: Iterable[datetime],
    repayments: Iterable[scores.RepaymentEvent],
    trust_percentile: float,
    now: datetime,
) -> Reputation:
    """One member's scores at `now`: feedback, 12-month percentages, repayment, grade.

    History starts at the member's first completed transaction or repayment fact.
    """
    received = list(ratings_received)
    done = [moment for moment in completed if moment <= now]
    evidence = sorted(repayments, key=repayment_order)
    feedback = scores.feedback_score(received, pseudonym)
    percent = scores.percent_positive(received, pseudonym, done, now)
    repayment = scores.repayment_reputation(evidence, now)
    starts = [*done, *(e.time for e in evidence if e.time <= now)]
    months = scores.history_months(min(starts) if starts else None, now)
    grade = scores.risk_grade(repayment, trust_percentile, percent, months)
    return Reputation(feedback, percent, repayment, trust_percentile, months, grade)


def network_trust(
    ratings_by_id: Mapping[int, scores.Rating], pretrusted: Iterable[str]
) -> tuple[scores.EigenTrust, dict[str, float]]:
    """EigenTrust over the shown ratings (by rating id) with the verified as pre-trusted,
    members in pseudonym order, and each member's percentile among them, compared at the
    published precision (parts per billion): the same numbers both ways."""
    ordered = [ratings_by_id[key] for key in sorted(ratings_by_id)]
    seeds = sorted(set(pretrusted))
    members = sorted(
        {*seeds, *(str(r.rater_id) for r in ordered), *(str(r.ratee_id) for r in ordered)}
    )
    result = scores.eigentrust(ordered, seeds, members=members)
    return result, scores.trust_percentiles(result.trust_ppb)


def network_percentiles(state: ReplayState) -> dict[str, float]:
    return network_trust(state.ratings_by_id, state.pretrusted)[1]


def member_reputation(state: ReplayState, pseudonym: str) -> Reputation:
    """The member's reputation at state.now (kept until anything it depends on changes,
    so checking several published values of one entry computes it once)."""
    assert state.now is not None
    facts = state.member(pseudonym)
    key = (
        pseudonym,
        state.now,
        state.graph_version,
        facts.events,
        len(facts.completed),
        len(facts.repayments),
    )
    if state._reputation is not None and state._reputation[0] == key:
        return state._reputation[1]
    found = reputation(
        pseudonym,
        facts.ratings_received,
        facts.completed,
        facts.repayments,
        state.trust_percentiles().get(pseudonym, 0.0),
        state.now,
    )
    state._reputation = (key, found)
    return found
