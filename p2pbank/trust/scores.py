"""Reputation rules (issue 6): pure, versioned, standard library only.

Every published score carries SCORE_VERSION, so an auditor can recompute it from the trust
log with exactly these rules. Any change to a rule or a constant here bumps the version.
All times are timezone-aware datetimes (UTC by convention); `now` is always an argument.
"""

from __future__ import annotations

import calendar
import math
from bisect import bisect_left
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import accumulate, chain, pairwise
from operator import mul, sub
from typing import TypeAlias, TypeVar

SCORE_VERSION = "2026-11.1"

MemberId: TypeAlias = Hashable
T = TypeVar("T")

# Mean Gregorian month (365.2425 / 12 days): the unit in which the forgetting factor ages events.
MONTH = timedelta(seconds=2_629_746)


# --- feedback score (eBay) -------------------------------------------------------------------


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


# --- percent positive over twelve months -----------------------------------------------------


def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock time `months` calendar months earlier (day clamped: 29 Feb -> 28)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


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


# --- repayment reputation (Beta reputation system) -------------------------------------------


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


# --- network trust (EigenTrust) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EigenTrust:
    """Global trust per member (sums to 1) and how the power iteration ended."""

    trust: dict[MemberId, float]
    iterations: int
    converged: bool
    residual: float  # L1 change of the last iteration
    version: str = SCORE_VERSION


def eigentrust(
    ratings: Iterable[Rating],
    pretrusted: Iterable[MemberId],
    members: Iterable[MemberId] = (),
    alpha: float = 0.15,
    epsilon: float = 1e-8,
    max_iterations: int = 100,
) -> EigenTrust:
    """EigenTrust with pre-trusted peers (Kamvar, Schlosser, Garcia-Molina, WWW 2003, Alg. 3).

    s_ij = positives - negatives from i to j; c_ij = max(s_ij, 0) / sum_j max(s_ij, 0),
    and a row with no positive trust is replaced by p. p is uniform over the pre-trusted
    peers (KYC-verified members), or over everyone if there are none. Starting from
    t = p, iterate t <- (1 - alpha) C^T t + alpha p until the L1 change < epsilon.
    Trust only enters through p, so accounts no chain of trust from a pre-trusted peer
    reaches get exactly zero.
    """
    verified = list(pretrusted)  # read once: it may be a one-shot iterator
    index: dict[MemberId, int] = {}
    for member in chain(members, verified):
        index.setdefault(member, len(index))
    seeds = sorted({index[m] for m in verified})
    net = _net_satisfaction(ratings, index)
    n = len(index)
    if n == 0:
        return EigenTrust(trust={}, iterations=0, converged=True, residual=0.0)
    seeds = seeds or list(range(n))
    sources, weights, spans, dangling = _incoming_trust(net, n)
    t, iterations, residual = _power_iteration(
        sources, weights, spans, dangling, seeds, n, alpha, epsilon, max_iterations
    )
    members_by_index = list(index)
    return EigenTrust(
        trust=dict(zip(members_by_index, t, strict=True)),
        iterations=iterations,
        converged=residual < epsilon,
        residual=residual,
    )


def _net_satisfaction(
    ratings: Iterable[Rating], index: dict[MemberId, int]
) -> dict[int, dict[int, int]]:
    """Sparse s_ij per rater row; registers every member seen. Self-ratings are dropped."""
    net: dict[int, dict[int, int]] = {}
    for rating in ratings:
        i = index.setdefault(rating.rater_id, len(index))
        j = index.setdefault(rating.ratee_id, len(index))
        if rating.value and i != j:
            row = net.get(i)
            if row is None:
                row = net[i] = {}
            row[j] = row.get(j, 0) + rating.value
    return net


def _incoming_trust(
    net: dict[int, dict[int, int]], n: int
) -> tuple[list[int], list[float], list[tuple[int, int]], list[int]]:
    """C^T as flat adjacency lists grouped by target: sources, weights and each target's span."""
    by_target_src: list[list[int]] = [[] for _ in range(n)]
    by_target_w: list[list[float]] = [[] for _ in range(n)]
    dangling = []
    for i in range(n):
        row = net.get(i, {})
        total = sum(v for v in row.values() if v > 0)
        if total == 0:
            dangling.append(i)
            continue
        for j, v in row.items():
            if v > 0:
                by_target_src[j].append(i)
                by_target_w[j].append(v / total)
    bounds = list(accumulate(map(len, by_target_src), initial=0))
    sources = list(chain.from_iterable(by_target_src))
    weights = list(chain.from_iterable(by_target_w))
    return sources, weights, list(pairwise(bounds)), dangling


def _power_iteration(
    sources: list[int],
    weights: list[float],
    spans: list[tuple[int, int]],
    dangling: list[int],
    seeds: list[int],
    n: int,
    alpha: float,
    epsilon: float,
    max_iterations: int,
) -> tuple[list[float], int, float]:
    """t <- (1-alpha)(C^T t + leaked p) + alpha p; loops run in C via map/sum for speed."""
    share = 1.0 / len(seeds)
    t = [0.0] * n
    for k in seeds:
        t[k] = share
    keep = 1.0 - alpha
    residual = math.inf
    iterations = 0
    while iterations < max_iterations and residual >= epsilon:
        iterations += 1
        products = list(map(mul, weights, map(t.__getitem__, sources)))
        leaked = sum(map(t.__getitem__, dangling))
        new = [keep * sum(products[a:b]) for a, b in spans]
        boost = (keep * leaked + alpha) * share
        for k in seeds:
            new[k] += boost
        residual = sum(map(abs, map(sub, new, t)))
        t = new
    return t, iterations, residual


def trust_percentiles(trust: Mapping[MemberId, float]) -> dict[MemberId, float]:
    """Share (0..1) of the other members with strictly lower trust; ties share a value."""
    ordered = sorted(trust.values())
    others = len(ordered) - 1
    if others <= 0:
        return {member: 0.0 for member in trust}
    return {member: bisect_left(ordered, value) / others for member, value in trust.items()}


# --- ranking by rating -----------------------------------------------------------------------


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


# --- risk grade ------------------------------------------------------------------------------

GRADES = "ABCDE"
GRADE_FLOORS = ((80.0, "A"), (65.0, "B"), (50.0, "C"), (20.0, "D"))
HISTORY_FULL_MONTHS = 24


@dataclass(frozen=True, slots=True)
class RiskGrade:
    grade: str
    points: float
    reasons: tuple[str, ...]
    version: str = SCORE_VERSION


@dataclass(frozen=True, slots=True)
class _Reason:
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
    """Grade A-E and up to four principal reasons, formula version 2026-11.1.

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
