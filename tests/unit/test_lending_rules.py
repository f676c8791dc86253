"""Lending's own pure rules: the limit ladder, fees, arrears buckets, splitting payments
among lenders, broken-period interest, the interim grade and the checks of terms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from p2pbank import reputation as scores
from p2pbank.lending import grading, rules
from p2pbank.lending.rules import PastLoan

# --- the limit ladder ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "limit", "reason"),
    [
        ([], 200_000, "first loan"),
        ([PastLoan(200_000, True)], 300_000, "1 loan(s) repaid on time"),
        ([PastLoan(200_000, True), PastLoan(300_000, True)], 450_000, "2 loan(s)"),
        # Late: back to the largest amount ever repaid on time.
        ([PastLoan(200_000, True), PastLoan(300_000, False)], 200_000, "repaid late"),
        ([PastLoan(150_000, False)], 200_000, "none on time"),
        ([PastLoan(200_000, True)] * 12, 2_500_000, "platform maximum"),
    ],
)
def test_the_limit_ladder(history, limit, reason):
    got = rules.borrowing_limit(history)
    assert got.amount_minor == limit
    assert reason in got.reason


# --- fees and arrears ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instalment", "fee"), [(10_353, 1_500), (30_000, 1_500), (30_001, 1_500), (100_000, 5_000)]
)
def test_the_late_fee_is_the_greater_of_15_euros_or_5_percent(instalment, fee):
    assert rules.late_fee(instalment) == fee


@pytest.mark.parametrize("grade", list("ABCDE"))
def test_origination_fees_run_from_1_to_5_percent_by_grade(grade):
    assert rules.origination_fee(100_000, grade) == 1_000 * ("ABCDE".index(grade) + 1)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, "current"),
        (1, "1-15"),
        (15, "1-15"),
        (16, "16-30"),
        (30, "16-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-120"),
        (120, "61-120"),
        (121, "120+"),
    ],
)
def test_arrears_buckets(days, bucket):
    assert rules.arrears_bucket(days) == bucket


def test_late_after_15_days_and_default_at_120():
    assert not rules.is_late(15) and rules.is_late(16)
    assert not rules.is_default(119) and rules.is_default(120)
    assert rules.days_past_due(date(2027, 1, 2), date(2027, 1, 18)) == 16
    assert rules.days_past_due(None, date(2027, 1, 18)) == 0


def test_the_default_cap_is_one_percent_never_less_than_a_slice():
    assert rules.default_borrower_cap(1_000_000, 2_500) == 10_000
    assert rules.default_borrower_cap(20_000, 2_500) == 2_500


def test_seventy_percent_rounds_up():
    assert rules.min_funded_minor(100_000) == 70_000
    assert rules.min_funded_minor(100_001) == 70_001


# --- splitting among lenders (hypothesis: never more than owed, always adds up) ------------

owed_lists = st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=40)


@given(owed=owed_lists, data=st.data())
def test_a_payment_split_adds_up_and_never_exceeds_what_a_part_is_owed(owed, data):
    amount = data.draw(st.integers(min_value=0, max_value=sum(owed)))
    parts = rules.split_by_remaining(amount, owed) if sum(owed) else [0] * len(owed)
    assert sum(parts) == amount
    assert all(0 <= p <= o for p, o in zip(parts, owed, strict=True))


@given(gross=st.lists(st.integers(min_value=0, max_value=10_000_000), min_size=1, max_size=40))
def test_servicing_fees_add_up_to_one_percent_and_never_exceed_a_share(gross):
    fees = rules.servicing_fees(gross)
    total = sum(gross)
    assert sum(fees) == (total + 50) // 100  # 1 %, half up
    assert all(0 <= f <= g for f, g in zip(fees, gross, strict=True))


def test_more_than_owed_cannot_be_split():
    with pytest.raises(ValueError):
        rules.split_by_remaining(101, [50, 50])


# --- broken-period interest ----------------------------------------------------------------


def test_accrued_interest_counts_the_days_elapsed():
    start, end = date(2026, 11, 2), date(2026, 12, 2)  # 30 days
    # 600.00 at 12 %: 6.00 a month; 10 of 30 days is 2.00.
    assert rules.accrued_interest(60_000, 1_200, start, end, date(2026, 11, 12)) == 200
    assert rules.accrued_interest(60_000, 1_200, start, end, start) == 0
    assert rules.accrued_interest(60_000, 1_200, start, end, end + timedelta(days=5)) == 600


# --- terms ---------------------------------------------------------------------------------


def test_request_terms_name_every_bad_field():
    errors = rules.check_request_terms(
        amount_minor=100.0,
        term_months=6.0,
        max_rate_bps=True,
        purpose_category="yacht",
        purpose_text="x",
        method="balloon",
    )
    assert set(errors) == {
        "amount_minor",
        "term_months",
        "max_rate_bps",
        "purpose_category",
        "purpose_text",
        "method",
    }


def test_money_text_for_messages():
    assert rules.euros(123_456) == "EUR 1,234.56"
    assert rules.euros(-5) == "-EUR 0.05"
    assert rules.percent(725) == "7.25%"


# --- the interim grade ---------------------------------------------------------------------

NOW = datetime(2027, 6, 1, tzinfo=UTC)


def event(kind: str, months_ago: int, days_late: int = 0) -> scores.RepaymentEvent:
    return scores.RepaymentEvent(
        scores.EventKind(kind), days_late, NOW - timedelta(days=30 * months_ago)
    )


def test_a_new_borrower_is_graded_d_for_having_no_history():
    got = grading.grade_borrower([], None, NOW)
    assert got.grade == "D"
    assert got.reasons[0] == "no repayment history on this platform yet"
    assert got.version == grading.GRADE_RULE_VERSION


def test_a_year_of_on_time_payments_earns_an_a():
    events = [event("on_time", m) for m in range(12)]
    got = grading.grade_borrower(events, NOW - timedelta(days=400), NOW)
    assert got.grade == "A"
    assert any("12 of 12 repayment events on time" in r for r in got.reasons)


def test_a_late_instalment_caps_at_b_two_at_c_and_a_default_at_e():
    good = [event("on_time", m) for m in range(12)]
    first = NOW - timedelta(days=400)
    assert grading.grade_borrower([*good, event("late", 1, 20)], first, NOW).grade == "B"
    two_late = [*good, event("late", 1, 20), event("late", 2, 20)]
    assert grading.grade_borrower(two_late, first, NOW).grade in "CD"
    assert grading.grade_borrower([*good, event("default", 3, 120)], first, NOW).grade == "E"
