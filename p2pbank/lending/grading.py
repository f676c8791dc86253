"""The interim risk grade at listing, from the borrower's repayment history here; pure.

Until the trust engine publishes grades, a listing is graded by this rule,
version `GRADE_RULE_VERSION`, from two facts lending itself knows: the borrower's
repayment events on this platform and how long ago their first loan was issued.

    points = 85 x E + 15 x min(months since the first loan / 24, 1)

where E is the Beta reputation expectation (r+1)/(r+s+2) of the repayment events,
computed by `p2pbank.reputation.repayment_reputation` (on time r += 1; late 16-30 days
s += 1, 31-60 s += 2, 61+ s += 4; default s += 10; ageing by 0.98 a month). The points
map to A-E with `p2pbank.reputation.grade_for_points` (A >= 80, B >= 65, C >= 50,
D >= 20, else E), and then caps apply, the worst binding:

| fact                                           | the grade is never better than |
|------------------------------------------------|--------------------------------|
| no repayment history on this platform yet      | D (so a new borrower gets D)   |
| one late instalment (16+ days) in 12 months    | B                              |
| two or more late instalments in 12 months      | C                              |
| a defaulted loan in the last 36 months         | E                              |

Any change to the formula, the weights or the caps is a new version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from p2pbank import reputation as scores

GRADE_RULE_VERSION = "lending-interim-2026-11.1"
REPUTATION_WEIGHT = 85
HISTORY_WEIGHT = 15
HISTORY_FULL_MONTHS = 24


@dataclass(frozen=True, slots=True)
class Grade:
    grade: str
    points: float
    reasons: tuple[str, ...]
    version: str = GRADE_RULE_VERSION


def _worse(a: str, b: str) -> str:
    return max(a, b, key=scores.GRADES.index)


def grade_borrower(
    events: Iterable[scores.RepaymentEvent], first_loan_at: datetime | None, now: datetime
) -> Grade:
    """The grade and its reasons (the binding caps first, then what cost points)."""
    reputation = scores.repayment_reputation(list(events), now)
    months = scores.history_months(first_loan_at, now)
    history_share = min(months / HISTORY_FULL_MONTHS, 1.0)
    points = REPUTATION_WEIGHT * reputation.expectation + HISTORY_WEIGHT * history_share
    grade = scores.grade_for_points(points)
    caps: list[tuple[str, str]] = []
    if not reputation.has_history:
        caps.append(("D", "no repayment history on this platform yet"))
    if reputation.defaults_last_36_months:
        caps.append(("E", f"{reputation.defaults_last_36_months} defaulted loan(s) in 36 months"))
    if reputation.late_last_12_months == 1:
        caps.append(("B", "1 late instalment in the last 12 months"))
    elif reputation.late_last_12_months > 1:
        caps.append(
            ("C", f"{reputation.late_last_12_months} late instalments in the last 12 months")
        )
    for cap, _text in caps:
        grade = _worse(grade, cap)
    caps.sort(key=lambda c: -scores.GRADES.index(c[0]))
    reasons = [text for _cap, text in caps]
    if reputation.has_history:
        reasons.append(
            f"{reputation.on_time} of {reputation.events} repayment events on time "
            f"(reputation {reputation.expectation:.2f})"
        )
        if reputation.late_older:
            reasons.append(f"{reputation.late_older} late instalment(s) more than 12 months ago")
    if months < 1:
        reasons.append("borrowing here for less than a month")
    else:
        reasons.append(f"borrowing here for {int(months)} month(s)")
    return Grade(grade=grade, points=round(points, 2), reasons=tuple(reasons))
