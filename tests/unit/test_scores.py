"""Reputation rules of issue 6: tables of hand-computed cases and hypothesis properties."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from itertools import permutations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from p2pbank.reputation import (
    MONTH,
    SCORE_VERSION,
    EventKind,
    PercentPositive,
    Rating,
    RepaymentEvent,
    eigentrust,
    feedback_score,
    grade_for_points,
    history_months,
    late_penalty,
    months_before,
    percent_positive,
    rank_by_wilson,
    repayment_reputation,
    risk_grade,
    star_tier,
    trust_percentiles,
    wilson_lower_bound,
)

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
MONDAY = datetime(2026, 6, 1, tzinfo=UTC)  # midnight starting ISO week 2026-W23
US = timedelta(microseconds=1)


def pos(rater: object, ratee: object, time: datetime = NOW) -> Rating:
    return Rating(rater, ratee, 1, time)


def neg(rater: object, ratee: object, time: datetime = NOW) -> Rating:
    return Rating(rater, ratee, -1, time)


def event(kind: str, months_ago: int = 0, days_late: int = 0) -> RepaymentEvent:
    return RepaymentEvent(EventKind(kind), days_late, NOW - months_ago * MONTH)


def no_feedback() -> PercentPositive:
    return percent_positive([], "m", 0, NOW)


# --- feedback score ---------------------------------------------------------------------------


def test_same_counterparty_counts_once_per_iso_week() -> None:
    week = [MONDAY, MONDAY + timedelta(days=2), MONDAY + timedelta(days=6, hours=14)]
    assert feedback_score([pos("a", "m", t) for t in week], "m").score == 1


def test_next_iso_week_counts_again() -> None:
    ratings = [pos("a", "m", MONDAY - US), pos("a", "m", MONDAY)]
    assert feedback_score(ratings, "m").score == 2


def test_iso_week_spanning_new_year_counts_once() -> None:
    # Thu 31 Dec 2026 and Sun 3 Jan 2027 both lie in ISO week 2026-W53.
    ratings = [
        pos("a", "m", datetime(2026, 12, 31, tzinfo=UTC)),
        pos("a", "m", datetime(2027, 1, 3, 23, tzinfo=UTC)),
    ]
    assert feedback_score(ratings, "m").score == 1


@pytest.mark.parametrize(
    ("values", "expected"),
    [((1, -1), 0), ((-1, -1, -1), -1), ((1, 1, -1), 1), ((0, 0), 0), ((0, 1), 1)],
)
def test_a_week_of_one_counterparty_nets_to_at_most_one_point(
    values: tuple[int, ...], expected: int
) -> None:
    ratings = [Rating("a", "m", v, MONDAY + timedelta(hours=k)) for k, v in enumerate(values)]
    assert feedback_score(ratings, "m").score == expected


def test_different_counterparties_in_one_week_each_count() -> None:
    ratings = [pos("a", "m", MONDAY), pos("b", "m", MONDAY), neg("c", "m", MONDAY)]
    assert feedback_score(ratings, "m").score == 1


def test_self_ratings_and_other_members_are_ignored() -> None:
    ratings = [pos("m", "m"), pos("a", "x"), pos("a", "m")]
    assert feedback_score(ratings, "m").score == 1


@pytest.mark.parametrize(
    ("score", "tier"),
    [
        (-5, "none"), (0, "none"), (9, "none"), (10, "yellow"), (49, "yellow"),
        (50, "blue"), (99, "blue"), (100, "turquoise"), (499, "turquoise"),
        (500, "purple"), (999, "purple"), (1000, "red"), (4999, "red"),
        (5000, "green"), (1_000_000, "green"),
    ],
)  # fmt: skip
def test_star_tier_boundaries(score: int, tier: str) -> None:
    assert star_tier(score) == tier


def test_feedback_score_carries_tier_and_version() -> None:
    ratings = [pos(f"r{k}", "m") for k in range(10)]
    result = feedback_score(ratings, "m")
    assert (result.score, result.tier, result.version) == (10, "yellow", SCORE_VERSION)


def test_rating_value_must_be_minus_one_zero_or_one() -> None:
    with pytest.raises(ValueError, match="rating value"):
        Rating("a", "m", 2, NOW)


# --- percent positive -------------------------------------------------------------------------

YEAR_AGO = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("time", "counted"),
    [
        (YEAR_AGO - US, False),
        (YEAR_AGO, True),
        (NOW, True),
        (NOW + US, False),
    ],
)
def test_twelve_month_window_edges(time: datetime, counted: bool) -> None:
    result = percent_positive([pos("a", "m", time)], "m", 1, NOW)
    assert result.positives == (1 if counted else 0)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2028, 2, 29, tzinfo=UTC), 12, datetime(2027, 2, 28, tzinfo=UTC)),
        (datetime(2026, 3, 31, 8, tzinfo=UTC), 1, datetime(2026, 2, 28, 8, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 36, datetime(2023, 1, 15, tzinfo=UTC)),
    ],
)
def test_months_before_clamps_the_day(moment: datetime, months: int, expected: datetime) -> None:
    assert months_before(moment, months) == expected


def test_percent_positive_ignores_neutrals_and_effective_counts_silence() -> None:
    ratings = [pos("a", "m"), pos("b", "m"), pos("c", "m"), neg("d", "m"), Rating("e", "m", 0, NOW)]
    result = percent_positive(ratings, "m", 10, NOW)
    assert (result.positives, result.neutrals, result.negatives) == (3, 1, 1)
    assert result.positive == 0.75
    assert result.effective == 0.3


def test_completed_transactions_as_times_are_filtered_to_the_window() -> None:
    times = [NOW - timedelta(days=d) for d in (1, 100, 364, 366, 400)]
    result = percent_positive([pos("a", "m")], "m", times, NOW)
    assert result.completed == 3
    assert result.effective == pytest.approx(1 / 3)


def test_effective_denominator_never_below_ratings_counted() -> None:
    result = percent_positive([pos("a", "m"), pos("b", "m")], "m", 1, NOW)
    assert (result.completed, result.effective) == (2, 1.0)


def test_no_ratings_gives_no_percentages() -> None:
    result = percent_positive([Rating("a", "m", 0, NOW)], "m", 0, NOW)
    assert result.positive is None
    assert result.effective == 0.0
    assert no_feedback().effective is None


# --- repayment reputation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "penalty"),
    [(0, 0), (15, 0), (16, 1), (30, 1), (31, 2), (60, 2), (61, 4), (120, 4), (121, 4)],
)
def test_late_penalty_bands(days: int, penalty: int) -> None:
    assert late_penalty(days) == penalty


def test_no_history_is_one_half() -> None:
    rep = repayment_reputation([], NOW)
    assert (rep.r, rep.s, rep.expectation, rep.has_history) == (0, 0, 0.5, False)


def test_beta_with_forgetting_hand_computed() -> None:
    # r = 1 + 0.98 = 1.98; s = 1 * 0.98^2 = 0.9604; E = 2.98 / 4.9404 = 0.603190
    events = [event("on_time", 0), event("on_time", 1), event("late", 2, days_late=20)]
    rep = repayment_reputation(events, NOW)
    assert rep.r == pytest.approx(1.98)
    assert rep.s == pytest.approx(0.9604)
    assert rep.expectation == pytest.approx(0.603190, abs=1e-6)


def test_old_default_is_forgiven_slowly() -> None:
    # s = 10 * 0.98^12 = 7.847167; E = 1 / 9.847167 = 0.101552
    rep = repayment_reputation([event("default", 12)], NOW)
    assert rep.s == pytest.approx(7.847167, abs=1e-6)
    assert rep.expectation == pytest.approx(0.101552, abs=1e-6)
    assert repayment_reputation([event("default", 0)], NOW).expectation == pytest.approx(1 / 12)


def test_no_forgetting_when_lambda_is_one() -> None:
    events = [event("on_time", 60), event("late", 60, days_late=40)]
    rep = repayment_reputation(events, NOW, forgetting=1.0)
    assert (rep.r, rep.s, rep.expectation) == (1.0, 2.0, 0.4)


def test_cure_recovers_half_the_penalty() -> None:
    # late 45 days: s = 2; cured: r = 1 -> E = 2/5
    events = [event("late", 0, days_late=45), event("cured", 0, days_late=45)]
    assert repayment_reputation(events, NOW).expectation == pytest.approx(0.4)
    # default s = 10, recovered r = 5 -> E = 6/17
    events = [event("default"), event("recovered")]
    assert repayment_reputation(events, NOW).expectation == pytest.approx(6 / 17)


def test_future_events_are_ignored() -> None:
    later = RepaymentEvent(EventKind.DEFAULT, 0, NOW + US)
    assert repayment_reputation([later], NOW).expectation == 0.5


def test_late_counts_use_the_twelve_month_edge() -> None:
    events = [
        RepaymentEvent(EventKind.LATE, 20, YEAR_AGO),
        RepaymentEvent(EventKind.LATE, 20, YEAR_AGO - US),
        RepaymentEvent(EventKind.LATE, 10, NOW),  # inside the grace period: not late
    ]
    rep = repayment_reputation(events, NOW)
    assert (rep.late_last_12_months, rep.late_older) == (1, 1)


def test_invalid_events_are_refused() -> None:
    with pytest.raises(ValueError):
        RepaymentEvent("paid_early", 0, NOW)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RepaymentEvent(EventKind.LATE, -1, NOW)
    with pytest.raises(ValueError):
        repayment_reputation([], NOW, forgetting=0)


# --- EigenTrust -------------------------------------------------------------------------------


def sybil_world() -> tuple[list[Rating], list[str]]:
    """A ring of 20 fresh accounts rating each other, and v rated by 5 verified members."""
    ring = [f"sybil{k}" for k in range(20)]
    ratings = [pos(a, b) for a, b in permutations(ring, 2)]
    honest = [f"h{k}" for k in range(5)]
    ratings += [pos(h, "v") for h in honest]
    return ratings, [*honest, "v"]


def test_sybil_ring_stays_below_a_verified_member_with_five_honest_ratings() -> None:
    ratings, verified = sybil_world()
    trust = eigentrust(ratings, pretrusted=verified, epsilon=1e-12).trust
    assert max(trust[f"sybil{k}"] for k in range(20)) < trust["v"]


def test_pretrusted_may_be_a_one_shot_iterator() -> None:
    ratings, verified = sybil_world()
    trust = eigentrust(ratings, pretrusted=iter(verified), epsilon=1e-12).trust
    assert trust["sybil0"] == 0.0
    assert trust["v"] > 0.0


def test_without_pretrusted_peers_the_same_ring_would_win() -> None:
    # Shows why pre-trust matters: with a uniform p the closed ring keeps its teleport mass.
    ratings, _ = sybil_world()
    trust = eigentrust(ratings, pretrusted=[], epsilon=1e-12).trust
    assert min(trust[f"sybil{k}"] for k in range(20)) > trust["v"]


def test_one_attack_edge_still_leaves_every_sybil_below_the_verified_member() -> None:
    ratings, verified = sybil_world()
    ratings.append(pos("h0", "sybil0"))  # one honest member was fooled once
    trust = eigentrust(ratings, pretrusted=verified, epsilon=1e-12).trust
    assert trust["sybil0"] > 0
    assert max(trust[f"sybil{k}"] for k in range(20)) < trust["v"]


def test_eigentrust_two_members_hand_computed() -> None:
    # a (pre-trusted) -> b; b trusts nobody, so its row is p = a.
    # t_b = 0.85 t_a; t_a = 0.85 t_b + 0.15 -> t_a = 0.15 / 0.2775 = 20/37, t_b = 17/37
    result = eigentrust([pos("a", "b")], pretrusted=["a"], epsilon=1e-14, max_iterations=1000)
    assert result.converged
    assert result.trust["a"] == pytest.approx(20 / 37, abs=1e-12)
    assert result.trust["b"] == pytest.approx(17 / 37, abs=1e-12)


def test_self_ratings_earn_no_trust() -> None:
    with_self = [pos("a", "b"), pos("b", "b"), pos("b", "b")]
    trust = eigentrust(with_self, pretrusted=["a"], epsilon=1e-14, max_iterations=1000).trust
    assert trust["b"] == pytest.approx(17 / 37, abs=1e-12)


def test_local_trust_is_positives_minus_negatives_floored_at_zero() -> None:
    ratings = [pos("a", "b"), neg("a", "b"), pos("a", "c")]
    trust = eigentrust(ratings, pretrusted=["a"], epsilon=1e-12).trust
    assert trust["b"] == 0.0
    assert trust["c"] == pytest.approx(0.85 * trust["a"])


def test_members_without_ratings_are_listed_with_zero_trust() -> None:
    result = eigentrust([pos("a", "b")], pretrusted=["a"], members=["x"])
    assert result.trust["x"] == 0.0
    assert set(result.trust) == {"a", "b", "x"}


def test_iteration_stops_at_max_iterations_and_says_so() -> None:
    ratings, verified = sybil_world()
    ratings += [pos("v", "h0"), pos("h1", "h2")]
    result = eigentrust(ratings, pretrusted=["v"], max_iterations=1, epsilon=1e-15)
    assert (result.iterations, result.converged) == (1, False)


def test_empty_graph() -> None:
    result = eigentrust([], pretrusted=[])
    assert (result.trust, result.iterations, result.converged) == ({}, 0, True)


def test_trust_percentiles_share_ties() -> None:
    percentiles = trust_percentiles({"a": 0.0, "b": 0.0, "c": 0.3, "d": 0.7})
    assert percentiles == {"a": 0.0, "b": 0.0, "c": 2 / 3, "d": 1.0}
    assert trust_percentiles({"solo": 1.0}) == {"solo": 0.0}


# --- Wilson ranking ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("positive", "total", "expected"),
    [(5, 5, 0.565509), (1, 2, 0.094529), (1, 1, 0.206543), (90, 100, 0.825633), (0, 10, 0.0)],
)
def test_wilson_lower_bound_hand_computed(positive: int, total: int, expected: float) -> None:
    assert wilson_lower_bound(positive, total) == pytest.approx(expected, abs=1e-6)


def test_wilson_with_no_ratings_is_zero_and_bad_counts_are_refused() -> None:
    assert wilson_lower_bound(0, 0) == 0.0
    with pytest.raises(ValueError):
        wilson_lower_bound(3, 2)


def test_rank_by_wilson_prefers_many_good_ratings_over_few_perfect_ones() -> None:
    ranked = rank_by_wilson([("one", 1, 1), ("five", 5, 5), ("ninety", 90, 100)])
    assert [item for item, _ in ranked] == ["ninety", "five", "one"]
    assert ranked[1][1] == pytest.approx(0.5655, abs=1e-4)


# --- risk grade -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "grade"),
    [
        (100, "A"), (80, "A"), (79.999, "B"), (65, "B"), (64.999, "C"), (50, "C"),
        (49.999, "D"), (20, "D"), (19.999, "E"), (0, "E"),
    ],
)  # fmt: skip
def test_grade_boundaries(points: float, grade: str) -> None:
    assert grade_for_points(points) == grade


def on_time_months(months: int) -> list[RepaymentEvent]:
    return [event("on_time", k) for k in range(months)]


def good_feedback(positives: int) -> PercentPositive:
    return percent_positive([pos(f"r{k}", "m") for k in range(positives)], "m", positives, NOW)


def test_new_member_gets_d_with_no_repayment_history_first() -> None:
    grade = risk_grade(repayment_reputation([], NOW), 0.0, no_feedback(), 0.0)
    assert grade.grade == "D"
    assert grade.points == pytest.approx(25.0)
    assert grade.reasons[0] == "no repayment history yet"
    assert "less than a month of history" in grade.reasons
    assert grade.version == SCORE_VERSION


def test_new_member_stays_d_however_well_connected() -> None:
    grade = risk_grade(repayment_reputation([], NOW), 1.0, good_feedback(40), 36.0)
    assert grade_for_points(grade.points) == "B"  # the points alone would say B
    assert grade.grade == "D"


def test_long_clean_record_gets_a() -> None:
    grade = risk_grade(repayment_reputation(on_time_months(24), NOW), 0.9, good_feedback(12), 24)
    assert grade.grade == "A"
    assert "24 instalments repaid on time" in grade.reasons


def test_late_instalments_cap_the_grade_and_lead_the_reasons() -> None:
    clean = on_time_months(24)
    one_late = [*clean, event("late", 3, days_late=20)]
    two_late = [*one_late, event("late", 5, days_late=40)]
    one = risk_grade(repayment_reputation(one_late, NOW), 0.5, good_feedback(12), 24)
    two = risk_grade(repayment_reputation(two_late, NOW), 0.5, good_feedback(12), 24)
    assert grade_for_points(one.points) == "A"  # the points alone would say A and B
    assert grade_for_points(two.points) == "B"
    assert (one.grade, two.grade) == ("B", "C")
    # the cap leads even though the middling network trust costs more points
    assert one.reasons[0] == "1 late instalment in the last 12 months"
    assert two.reasons[0] == "2 late instalments in the last 12 months"


def test_default_in_three_years_gives_e() -> None:
    events = [*on_time_months(24), event("default", 30)]
    grade = risk_grade(repayment_reputation(events, NOW), 0.9, good_feedback(12), 40)
    assert grade.grade == "E"
    assert grade.reasons[0] == "1 defaulted loan in the last 36 months"


def test_borrower_who_repays_on_time_rises_from_d_to_c() -> None:
    before = risk_grade(repayment_reputation([], NOW), 0.3, good_feedback(2), 0.0)
    after = risk_grade(repayment_reputation(on_time_months(6), NOW), 0.3, good_feedback(2), 6.0)
    assert (before.grade, after.grade) == ("D", "C")
    assert "only 6 instalments repaid on time" in after.reasons


def test_at_most_four_reasons_in_plain_words() -> None:
    events = [
        *on_time_months(6),
        event("default", 20),
        event("late", 2, days_late=70),
        event("late", 14, days_late=20),
    ]
    feedback = percent_positive([pos("a", "m"), neg("b", "m")], "m", 5, NOW)
    grade = risk_grade(repayment_reputation(events, NOW), 0.12, feedback, 8.5)
    assert grade.grade == "E"
    assert grade.reasons == (
        "1 defaulted loan in the last 36 months",
        "1 late instalment in the last 12 months",
        "1 late instalment more than 12 months ago",
        "network trust at the 12th percentile of members",
    )


def test_history_months() -> None:
    assert history_months(None, NOW) == 0.0
    assert history_months(NOW - 6 * MONTH, NOW) == 6.0


# --- properties -------------------------------------------------------------------------------

members = st.sampled_from([f"m{k}" for k in range(8)])
rating_values = st.sampled_from([1, 1, 1, 0, -1])
graph = st.lists(st.tuples(members, members, rating_values), max_size=40)


def to_ratings(edges: list[tuple[str, str, int]]) -> list[Rating]:
    return [Rating(a, b, v, NOW) for a, b, v in edges]


@given(graph, st.sets(members, max_size=4))
def test_eigentrust_is_a_distribution(edges: list, verified: set[str]) -> None:
    result = eigentrust(to_ratings(edges), pretrusted=sorted(verified), epsilon=1e-12)
    if result.trust:
        assert math.fsum(result.trust.values()) == pytest.approx(1.0, abs=1e-9)
    assert all(0.0 <= t <= 1.0 for t in result.trust.values())


@settings(max_examples=200)
@given(graph, st.sets(members, min_size=1, max_size=4), st.data())
def test_positive_rating_from_verified_member_never_lowers_trust(
    edges: list, verified: set[str], data: st.DataObject
) -> None:
    rater = data.draw(st.sampled_from(sorted(verified)))
    ratee = data.draw(members)
    kwargs = {"pretrusted": sorted(verified), "epsilon": 1e-14, "max_iterations": 10_000}
    before = eigentrust(to_ratings(edges), **kwargs).trust.get(ratee, 0.0)
    after = eigentrust([*to_ratings(edges), pos(rater, ratee)], **kwargs).trust[ratee]
    assert after >= before - 1e-9


repayment_events = st.builds(
    RepaymentEvent,
    st.sampled_from(list(EventKind)),
    st.integers(0, 400),
    st.integers(0, 120).map(lambda months: NOW - months * MONTH),
)


@given(st.lists(repayment_events, max_size=30), st.floats(0.5, 1.0))
def test_repayment_expectation_is_bounded(events: list, forgetting: float) -> None:
    assert 0.0 < repayment_reputation(events, NOW, forgetting).expectation < 1.0


@given(st.integers(0, 500), st.integers(0, 500))
def test_wilson_is_bounded_and_below_the_mean(a: int, b: int) -> None:
    positive, total = min(a, b), max(a, b)
    bound = wilson_lower_bound(positive, total)
    assert 0.0 <= bound <= 1.0
    if total:
        assert bound <= positive / total


@given(graph, st.integers(0, 60))
def test_percentages_are_bounded(edges: list, completed: int) -> None:
    result = percent_positive(to_ratings(edges), "m0", completed, NOW)
    for share in (result.positive, result.effective):
        assert share is None or 0.0 <= share <= 1.0


@given(
    st.lists(repayment_events, max_size=20),
    st.floats(0.0, 1.0),
    st.integers(0, 30),
    st.integers(0, 30),
    st.floats(0.0, 120.0),
)
def test_grade_is_a_letter_with_at_most_four_reasons(
    events: list, percentile: float, positives: int, negatives: int, months: float
) -> None:
    ratings = [pos(f"p{k}", "m") for k in range(positives)]
    ratings += [neg(f"n{k}", "m") for k in range(negatives)]
    feedback = percent_positive(ratings, "m", positives + negatives, NOW)
    grade = risk_grade(repayment_reputation(events, NOW), percentile, feedback, months)
    assert grade.grade in "ABCDE"
    assert 0.0 <= grade.points <= 100.0
    assert 1 <= len(grade.reasons) <= 4
