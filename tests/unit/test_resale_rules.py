"""The secondary market's pure rules: price bounds, accrued interest, the fee, the returns
of holdings that change hands."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from p2pbank.lending import returns as base
from p2pbank.lending.returns import Holding, Receipt, figures, returns_of
from p2pbank.resale import rules


@pytest.mark.parametrize(
    ("bps", "ok"),
    [(-2_001, False), (-2_000, True), (0, True), (1_000, True), (1_001, False)],
)
def test_premium_bounds_are_minus_twenty_to_plus_ten_percent(bps, ok):
    assert (rules.premium_problem(bps) is None) is ok


@pytest.mark.parametrize(
    ("status", "outstanding", "ok"),
    [
        ("active", 100, True),
        ("late", 100, True),
        ("defaulted", 100, False),
        ("repaid", 0, False),
        ("active", 0, False),
    ],
)
def test_only_running_parts_can_be_listed(status, outstanding, ok):
    assert (rules.listing_problem(status, outstanding) is None) is ok
    if status == "defaulted":
        assert "defaulted" in rules.listing_problem(status, outstanding)


def test_quote_lines_add_up_and_the_fee_is_one_percent_of_what_the_buyer_pays():
    q = rules.quote(10_000, -500, 37)
    assert (q.premium_minor, q.price_minor, q.total_minor) == (-500, 9_500, 9_537)
    assert q.fee_minor == 95  # 1 % of 95.37, half up
    assert q.seller_gets_minor == 9_442


@given(
    st.integers(1, 10**9),
    st.integers(-2_000, 1_000),
    st.integers(0, 10**6),
)
def test_quote_never_loses_a_cent(outstanding, premium, accrued):
    q = rules.quote(outstanding, premium, accrued)
    assert q.seller_gets_minor + q.fee_minor == q.total_minor
    assert q.total_minor == q.outstanding_minor + q.premium_minor + q.accrued_minor
    assert 0 <= q.fee_minor <= q.total_minor


def test_accrued_interest_counts_overdue_interest_and_the_elapsed_share_of_the_next():
    rows = [
        rules.UnpaidInterest(date(2026, 1, 1), date(2026, 2, 1), 300),  # overdue
        rules.UnpaidInterest(date(2026, 2, 1), date(2026, 3, 1), 280),  # running: 14/28 days
        rules.UnpaidInterest(date(2026, 3, 1), date(2026, 4, 1), 260),  # future
    ]
    assert rules.accrued_interest(rows, date(2026, 2, 15)) == 300 + 140
    assert rules.accrued_interest(rows[1:], date(2026, 2, 1)) == 0


def test_auto_buy_takes_current_parts_at_par_or_below_within_the_order_terms():
    fits = dict(
        premium_bps=0,
        days_past_due=0,
        grade="C",
        rate_bps=1_200,
        months_left=10,
        min_rate_by_grade={"C": 1_000},
        max_term_months=36,
    )
    assert rules.auto_buy_fits(**fits)
    assert not rules.auto_buy_fits(**{**fits, "premium_bps": 1})
    assert not rules.auto_buy_fits(**{**fits, "days_past_due": 3})
    assert not rules.auto_buy_fits(**{**fits, "grade": "E"})
    assert not rules.auto_buy_fits(**{**fits, "rate_bps": 900})
    assert not rules.auto_buy_fits(**{**fits, "months_left": 48})


def _monthly(start: date, months: int, principal: int, interest: int) -> tuple[Receipt, ...]:
    from p2pbank.lending.schedule import add_months

    return tuple(
        Receipt(add_months(start, k), principal_minor=principal, interest_minor=interest)
        for k in range(1, months + 1)
    )


def test_without_a_sale_the_holding_is_the_dashboards_note():
    # A payment on its due date closes its period; the period in progress (from April 10,
    # nothing paid yet) does not count until it is over or money moves in it.
    held = Holding(
        started_on=date(2026, 1, 10),
        paid_minor=12_000,
        principal_minor=12_000,
        receipts=_monthly(date(2026, 1, 10), 3, 1_000, 100),
        outstanding_now_minor=9_000,
    )
    found = figures([held], date(2026, 4, 20))
    assert [m.outstanding_principal_minor for m in found.months] == [12_000, 11_000, 10_000]
    assert found.flows[0] == (date(2026, 1, 10), -12_000)
    assert found.flows[-1] == (date(2026, 4, 20), 9_000)


def test_a_sale_ends_the_sellers_holding_and_starts_the_buyers():
    start = date(2026, 1, 10)
    sold_on = date(2026, 3, 20)
    seller = Holding(
        started_on=start,
        paid_minor=12_000,
        principal_minor=12_000,
        receipts=_monthly(start, 2, 1_000, 100),
        sold_on=sold_on,
        proceeds_minor=9_900,  # 10,000 outstanding at par + accrued, less the fee
    )
    buyer = Holding(
        started_on=sold_on,
        paid_minor=10_050,
        principal_minor=10_000,
        receipts=(Receipt(date(2026, 4, 10), principal_minor=1_000, interest_minor=100),),
        outstanding_now_minor=9_000,
    )
    seller_flows = figures([seller], date(2026, 5, 1)).flows
    assert seller_flows[-1] == (sold_on, 9_900)
    assert all(day <= sold_on for day, _ in seller_flows)
    seller_months = figures([seller], date(2026, 5, 1)).months
    assert sum(m.net_minor for m in seller_months) == 200 - 100  # interest, less the sale loss
    buyer_found = figures([buyer], date(2026, 5, 1))
    assert buyer_found.flows[0] == (sold_on, -10_050)
    assert sum(m.net_minor for m in buyer_found.months) == 100 - 50
    nar, irr = returns_of([buyer], date(2026, 5, 1))
    assert nar is not None and irr is not None
    assert base.net_annualized_return(buyer_found.months) == nar
