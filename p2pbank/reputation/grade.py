"""Ranking by rating (Wilson lower bound) and the A-E risk grade with its reasons."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, TypeVar

from p2pbank.reputation.basis import MONTH, SCORE_VERSION
from p2pbank.reputation.feedback import PercentPositive
from p2pbank.reputation.repayment import RepaymentReputation

T = TypeVar("T")


def wilson_lower_bound(positive: int, total: int, z: float = 1.96) -> float:
    """Lower bound of the Wilson score interval (Wilson 1927; E. Miller, "How Not To Sort By
    Average Rating", 2009): few ratings rank below many equally good ones. 0 if no ratings.
    """
    if total < 0 or not 0 <= positive <= total:
        raise ValueError("need 0 <= positive <= total")
    if positive == 0:
        return 0.0  # exact bound; the formula would leave float noise around zero
    p_hat = positive / total
    z2 = z * z
    centre = p_hat + z2 / (2 * total)
    margin = z * math.sqrt(p_hat * (1 - p_hat) / total + z2 / (4 * total * total))
    return max(0.0, (centre - margin) / (1 + z2 / total))


def rank_by_wilson(items: Iterable[tuple[T, int, int]], z: float = 1.96) -> list[tuple[T, float]]:
    """(item, positives, total) triples, best first by Wilson lower bound; ties keep order."""
    scored = [(item, wilson_lower_bound(pos, total, z)) for item, pos, total in items]
    return sorted(scored, key=lambda pair: pair[1], reverse=True)


GRADES = "ABCDE"
GRADE_FLOORS = ((80.0, "A"), (65.0, "B"), (50.0, "C"), (20.0, "D"))
HISTORY_FULL_MONTHS = 24


@dataclass(frozen=True, slots=True)
class RiskGrade:
    grade: str
    points: float
    reasons: tuple[str, ...]
    version: str = SCORE_VERSION


class _Reason(NamedTuple):  # a tuple: made for every member on every run
    text: str
    points_lost: float
    cap: str = "A"  # the best grade this fact allows


def grade_for_points(points: float) -> str:
    """A-E from the 0..100 points of the formula in `risk_grade`."""
    for floor, grade in GRADE_FLOORS:
        if points >= floor:
            return grade
    return "E"


def risk_grade(
    repayment: RepaymentReputation,
    trust_percentile: float,
    feedback: PercentPositive,
    history_months: float,
) -> RiskGrade:
    """Grade A-E and up to four principal reasons (formula unchanged since version 2026-11.1).

    Points (0-100), all inputs computed at the same `now`:

    | factor         | points                                                   | max |
    |----------------|----------------------------------------------------------|-----|
    | repayment      | 50 x Beta expectation (r+1)/(r+s+2), see above           |  50 |
    | network trust  | 20 x EigenTrust percentile among members                 |  20 |
    | feedback       | 15 x Wilson lower bound of 12-month positives / (pos+neg)|  15 |
    | history length | 15 x min(months of history / 24, 1)                      |  15 |

    | grade | points  |   | cap: the grade is never better than                 |
    |-------|---------|---|-----------------------------------------------------|
    | A     | >= 80   |   | no repayment history yet                     -> D    |
    | B     | >= 65   |   | 1 late instalment (16+ days) in 12 months    -> B    |
    | C     | >= 50   |   | 2 or more late instalments in 12 months      -> C    |
    | D     | >= 20   |   | a default in the last 36 months              -> E    |
    | E     | < 20    |   |                                                     |

    A new member has repayment 0.5 (25 points) and the D cap, so always gets D.
    Reasons: the binding caps first, then the factors that cost the most points.
    """
    rep_points = 50 * repayment.expectation
    trust_points = 20 * min(max(trust_percentile, 0.0), 1.0)
    rated = feedback.positives + feedback.negatives
    feedback_points = 15 * wilson_lower_bound(feedback.positives, rated)
    history_points = 15 * min(max(history_months, 0.0) / HISTORY_FULL_MONTHS, 1.0)
    points = rep_points + trust_points + feedback_points + history_points
    reasons = [
        *_repayment_reasons(repayment, 50 - rep_points),
        _Reason(_trust_text(trust_percentile), 20 - trust_points),
        _Reason(_feedback_text(feedback), 15 - feedback_points),
        _Reason(_history_text(history_months), 15 - history_points),
    ]
    grade = max([grade_for_points(points), *(r.cap for r in reasons)], key=GRADES.index)
    ordered = sorted(reasons, key=lambda r: (-GRADES.index(r.cap), -r.points_lost))
    return RiskGrade(grade=grade, points=points, reasons=tuple(r.text for r in ordered[:4]))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _repayment_reasons(rep: RepaymentReputation, lost: float) -> list[_Reason]:
    if not rep.has_history:
        return [_Reason("no repayment history yet", lost, cap="D")]
    reasons = []
    if rep.defaults_last_36_months:
        text = f"{_plural(rep.defaults_last_36_months, 'defaulted loan')} in the last 36 months"
        reasons.append(_Reason(text, lost, cap="E"))
    if rep.late_last_12_months:
        cap = "B" if rep.late_last_12_months == 1 else "C"
        text = f"{_plural(rep.late_last_12_months, 'late instalment')} in the last 12 months"
        reasons.append(_Reason(text, lost, cap=cap))
    if rep.late_older:
        text = f"{_plural(rep.late_older, 'late instalment')} more than 12 months ago"
        reasons.append(_Reason(text, lost))
    if not reasons:
        prefix = "only " if rep.on_time < 12 else ""
        text = f"{prefix}{_plural(rep.on_time, 'instalment')} repaid on time"
        reasons.append(_Reason(text, lost))
    return reasons


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _trust_text(percentile: float) -> str:
    rank = round(min(max(percentile, 0.0), 1.0) * 100)
    return f"network trust at the {_ordinal(rank)} percentile of members"


def _feedback_text(feedback: PercentPositive) -> str:
    rated = feedback.positives + feedback.negatives
    if rated == 0:
        return "no ratings in the last 12 months"
    if feedback.negatives:
        return f"{feedback.negatives} negative of {rated} ratings in the last 12 months"
    prefix = "only " if feedback.positives < 10 else ""
    return f"{prefix}{_plural(feedback.positives, 'positive rating')} in the last 12 months"


def _history_text(months: float) -> str:
    if months < 1:
        return "less than a month of history"
    whole = int(months)
    prefix = "only " if whole < HISTORY_FULL_MONTHS else ""
    return f"{prefix}{_plural(whole, 'month')} of history"


def history_months(first_transaction: datetime | None, now: datetime) -> float:
    """Months since the member's first completed transaction (0 if none yet)."""
    if first_transaction is None or first_transaction > now:
        return 0.0
    return (now - first_transaction) / MONTH
