"""Crowdfunding rules: deadlines, outcomes, progress, the payout split, EU safeguards."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from p2pbank import months
from p2pbank.crowdfunding import rules

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_deadline_is_exactly_the_duration_after_launch():
    assert rules.deadline_for(T0, 30) == T0 + timedelta(days=30)
    assert rules.deadline_for(T0, 1) == T0 + timedelta(days=1)
    assert rules.deadline_for(T0, 60) == T0 + timedelta(days=60)


@pytest.mark.parametrize("days", [0, 61, -1])
def test_duration_outside_1_to_60_days_is_refused(days):
    with pytest.raises(ValueError):
        rules.deadline_for(T0, days)


def test_open_until_but_not_at_the_deadline():
    deadline = T0 + timedelta(days=3)
    assert rules.is_open(deadline - timedelta(microseconds=1), deadline)
    assert not rules.is_open(deadline, deadline)


@pytest.mark.parametrize(
    ("before_deadline", "old", "new", "refused"),
    [
        (timedelta(days=2), 5000, 1000, False),  # lower it, early: fine
        (timedelta(days=2), 5000, None, False),  # cancel, early: fine
        (timedelta(hours=24, microseconds=1), 5000, None, False),  # just before the last day
        (timedelta(hours=24), 5000, None, True),  # the last 24 hours start here
        (timedelta(hours=3), 5000, 4999, True),
        (timedelta(hours=3), 5000, 5000, False),  # same amount (another tier): fine
        (timedelta(hours=3), 5000, 9000, False),  # raise: fine
        (timedelta(0), 5000, 9000, True),  # at the deadline: over
    ],
)
def test_change_rules_in_the_last_day(before_deadline, old, new, refused):
    deadline = T0 + timedelta(days=10)
    reason = rules.change_refusal(deadline - before_deadline, deadline, old, new)
    assert (reason is not None) is refused


def test_days_left_rounds_up_and_stops_at_zero():
    deadline = T0 + timedelta(days=2)
    assert rules.days_left(T0, deadline) == 2
    assert rules.days_left(deadline - timedelta(hours=3), deadline) == 1
    assert rules.days_left(deadline, deadline) == 0
    assert rules.days_left(deadline + timedelta(days=4), deadline) == 0


def test_add_months_clamps_to_month_end():
    assert months.add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert months.add_months(datetime(2028, 2, 29, tzinfo=UTC), -12) == datetime(
        2027, 2, 28, tzinfo=UTC
    )
    assert months.add_months(datetime(2026, 12, 5, tzinfo=UTC), 1) == datetime(
        2027, 1, 5, tzinfo=UTC
    )


def test_delivery_is_overdue_once_the_month_is_over():
    month = date(2026, 5, 1)
    assert not rules.delivery_overdue(month, datetime(2026, 5, 31, 23, 59, tzinfo=UTC))
    assert rules.delivery_overdue(month, datetime(2026, 6, 1, 0, 0, tzinfo=UTC))
    assert rules.delivery_overdue(date(2026, 12, 1), datetime(2027, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("model", "pledged", "goal", "funded"),
    [
        ("all_or_nothing", 9_999, 10_000, False),
        ("all_or_nothing", 10_000, 10_000, True),
        ("all_or_nothing", 25_000, 10_000, True),
        ("keep_it_all", 1, 10_000, True),
        ("keep_it_all", 0, 10_000, False),
    ],
)
def test_outcome(model, pledged, goal, funded):
    assert rules.is_funded(model, pledged, goal) is funded


def test_percent_never_rounds_up_to_a_reached_goal():
    assert rules.percent_funded(9_999, 10_000) == 99
    assert rules.percent_funded(10_000, 10_000) == 100
    assert rules.percent_funded(31_000, 10_000) == 310


def test_progress_splits_firm_and_pending_and_caps_the_bar():
    p = rules.Progress(
        goal_minor=10_000,
        firm_minor=6_000,
        pending_minor=7_000,
        revocable_minor=0,
        backers=3,
        days_left=4,
    )
    assert p.pledged_minor == 13_000
    assert p.percent == 130
    assert p.firm_width == 60
    assert p.pending_width == 40  # the bar is full, never wider
    assert p.reached


def test_stretch_goals_reached():
    assert rules.stretch_goals_reached(15_000, [10_000, 15_000, 20_000]) == [
        (10_000, True),
        (15_000, True),
        (20_000, False),
    ]


def test_payout_split_example():
    split = rules.payout_split(100_000, 500, 1_730)
    assert split.platform_fee_minor == 5_000
    assert split.processing_fee_minor == 1_730
    assert split.net_minor == 93_270
    assert split.absorbed_minor == 0


def test_payout_split_never_goes_negative_after_refunds():
    split = rules.payout_split(100, 500, 300)
    assert split.platform_fee_minor == 5
    assert split.processing_fee_minor == 95
    assert split.net_minor == 0
    assert split.absorbed_minor == 205


@given(
    gross=st.integers(min_value=0, max_value=10**12),
    bps=st.integers(min_value=0, max_value=10_000),
    processing=st.integers(min_value=0, max_value=10**10),
)
def test_payout_split_parts_always_add_up(gross, bps, processing):
    split = rules.payout_split(gross, bps, processing)
    assert split.platform_fee_minor + split.processing_fee_minor + split.net_minor == gross
    assert min(split.platform_fee_minor, split.processing_fee_minor, split.net_minor) >= 0
    assert split.processing_fee_minor + split.absorbed_minor == processing
    assert abs(split.platform_fee_minor * 10_000 - gross * bps) <= 5_000


@pytest.mark.parametrize(("gross", "bps"), [(-1, 500), (100, -1), (100, 10_001)])
def test_payout_split_refuses_nonsense(gross, bps):
    with pytest.raises(ValueError):
        rules.payout_split(gross, bps, 0)


def test_daily_totals_are_cumulative():
    d = date(2026, 3, 1)
    series = rules.daily_totals(
        [(d - timedelta(days=3), 500), (d, 1000), (d + timedelta(days=2), -200)],
        d,
        d + timedelta(days=3),
    )
    assert [v for _, v in series] == [1500, 1500, 1300, 1300]
    assert rules.daily_totals([], d, d - timedelta(days=1)) == []


def test_chart_points_scale_into_the_box():
    assert rules.chart_points([0, 50, 100], 200, 100) == "0.0,100.0 100.0,50.0 200.0,0.0"
    assert rules.chart_points([], 200, 100) == ""
    assert rules.chart_points([0, 0], 10, 10) == "0.0,10.0 10.0,10.0"


# --- EU 2020/1503 --------------------------------------------------------------------------


def test_net_worth_and_loss_capacity():
    worth = rules.net_worth(4_000_000, 2_000_000, 1_000_000)
    assert worth == 5_000_000
    assert rules.loss_capacity(worth) == 500_000  # 10 %
    assert rules.loss_capacity(-10) == 0


@pytest.mark.parametrize(
    ("worth", "threshold"),
    [
        (0, 100_000),  # the floor: 1,000.00
        (1_000_000, 100_000),  # 5 % is 500.00: the floor is higher
        (2_000_000, 100_000),  # 5 % is exactly 1,000.00
        (10_000_000, 500_000),  # 5 % is 5,000.00
        (-5_000, 100_000),
    ],
)
def test_large_investment_threshold_is_the_higher_of_1000_or_5_percent(worth, threshold):
    assert rules.large_investment_threshold(worth) == threshold
    assert not rules.needs_large_investment_ack(threshold, worth)
    assert rules.needs_large_investment_ack(threshold + 1, worth)


def test_assessment_is_valid_for_two_years():
    taken = datetime(2026, 2, 28, 10, tzinfo=UTC)
    assert rules.assessment_valid(taken, datetime(2028, 2, 28, 9, 59, tzinfo=UTC))
    assert not rules.assessment_valid(taken, datetime(2028, 2, 28, 10, tzinfo=UTC))
    assert not rules.assessment_valid(None, taken)


def test_reflection_period_is_four_days():
    assert rules.can_revoke(T0, T0 + timedelta(days=4) - timedelta(microseconds=1))
    assert not rules.can_revoke(T0, T0 + timedelta(days=4))
    assert rules.revocable_until(T0) == T0 + timedelta(days=4)


def test_owner_cap_room():
    assert rules.owner_cap_room(0) == 500_000_000
    assert rules.owner_cap_room(499_000_000) == 1_000_000
    assert rules.owner_cap_room(600_000_000) == 0
    assert rules.owner_cap_window_start(datetime(2026, 3, 31, tzinfo=UTC)) == datetime(
        2025, 3, 31, tzinfo=UTC
    )


def test_knowledge_test_scoring():
    right = {q.key: q.answer for q in rules.KNOWLEDGE_TEST}
    assert rules.score_knowledge_test(right) == (5, True)
    one_wrong = {**right, "loss": "b"}
    assert rules.score_knowledge_test(one_wrong) == (4, True)
    two_wrong = {**one_wrong, "share": "c"}
    assert rules.score_knowledge_test(two_wrong) == (3, False)
    assert rules.score_knowledge_test({}) == (0, False)
