"""Reputation rules: pure and versioned (SCORE_VERSION), shared by the platform's scores job
and the trust log's replay, which recomputes every published score with exactly these
rules. No database, web framework or I/O here; NumPy/SciPy do the network maths.

- feedback: eBay's feedback score and stars, percent positive over twelve months
- repayment: the Beta reputation system over repayment facts
- network: EigenTrust with pre-trusted peers, trust percentiles
- grade: the Wilson lower bound for ranking, the A-E risk grade and its reasons
"""

from p2pbank.reputation.basis import MONTH, SCORE_VERSION, MemberId, months_before
from p2pbank.reputation.feedback import (
    NO_STAR,
    STAR_TIERS,
    FeedbackScore,
    PercentPositive,
    Rating,
    feedback_score,
    percent_positive,
    star_tier,
)
from p2pbank.reputation.grade import (
    GRADE_FLOORS,
    GRADES,
    HISTORY_FULL_MONTHS,
    RiskGrade,
    grade_for_points,
    history_months,
    rank_by_wilson,
    risk_grade,
    wilson_lower_bound,
)
from p2pbank.reputation.network import (
    TRUST_SCALE,
    EigenTrust,
    TrustVector,
    eigentrust,
    eigentrust_arrays,
    iteration_bound,
    percentile_ranks,
    trust_percentiles,
)
from p2pbank.reputation.repayment import (
    DEFAULT_PENALTY,
    GRACE_DAYS,
    EventKind,
    RepaymentEvent,
    RepaymentReputation,
    late_penalty,
    repayment_reputation,
)

__all__ = [
    "DEFAULT_PENALTY",
    "GRACE_DAYS",
    "GRADE_FLOORS",
    "GRADES",
    "HISTORY_FULL_MONTHS",
    "MONTH",
    "NO_STAR",
    "SCORE_VERSION",
    "STAR_TIERS",
    "TRUST_SCALE",
    "EigenTrust",
    "EventKind",
    "FeedbackScore",
    "MemberId",
    "PercentPositive",
    "Rating",
    "RepaymentEvent",
    "RepaymentReputation",
    "RiskGrade",
    "TrustVector",
    "eigentrust",
    "eigentrust_arrays",
    "feedback_score",
    "grade_for_points",
    "history_months",
    "iteration_bound",
    "late_penalty",
    "months_before",
    "percent_positive",
    "percentile_ranks",
    "rank_by_wilson",
    "repayment_reputation",
    "risk_grade",
    "star_tier",
    "trust_percentiles",
    "wilson_lower_bound",
]
