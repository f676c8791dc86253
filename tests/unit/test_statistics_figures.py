"""The published loan-book figures, from plain facts (worked examples by hand)."""

from __future__ import annotations

from datetime import date

from p2pbank import charts
from p2pbank.statistics import figures
from p2pbank.statistics.figures import LoanFact


def fact(
    issued,
    grade="C",
    principal=100_000,
    status="active",
    rate=1_000,
    interest=0,
    lost=0,
    outstanding=None,
):
    return LoanFact(
        issued,
        grade,
        principal,
        rate,
        principal if outstanding is None else outstanding,
        status,
        interest,
        lost,
    )


def test_default_rate_is_defaulted_principal_over_issued_per_vintage_and_grade():
    facts = [
        fact(date(2025, 3, 1), "C", 100_000, "defaulted", lost=60_000, outstanding=0),
        fact(date(2025, 6, 1), "C", 200_000, "repaid", outstanding=0),
        fact(date(2025, 9, 1), "C", 300_000, "active"),
        fact(date(2026, 1, 5), "C", 50_000, "active"),
        fact(date(2025, 2, 1), "A", 70_000, "repaid", outstanding=0),
    ]
    rows = {(r.vintage, r.grade): r for r in figures.default_rates(facts, date(2026, 12, 5))}
    c25 = rows[(2025, "C")]
    assert (c25.loans, c25.principal_minor, c25.defaulted_loans, c25.defaulted_minor) == (
        3,
        600_000,
        1,
        100_000,
    )
    assert c25.actual_bps == 1_667  # 100,000 / 600,000 = 16.666..% rounds half up
    assert c25.actual_count_bps == 3_333
    assert c25.running_loans == 1 and c25.expected_bps == figures.EXPECTED_DEFAULT_BPS["C"]
    assert rows[(2026, "C")].actual_bps == 0
    assert rows[(2025, "A")].running_loans == 0


def test_only_the_last_36_months_count():
    facts = [fact(date(2023, 11, 30)), fact(date(2023, 12, 1))]
    rows = figures.default_rates(facts, date(2026, 12, 5))
    assert [(r.vintage, r.loans) for r in rows] == [(2023, 1)]  # from 2023-12-01 on


def test_summary_weights_the_rate_by_principal_and_nets_losses_from_interest():
    facts = [
        fact(date(2026, 1, 1), principal=100_000, rate=800, interest=5_000),
        fact(
            date(2026, 2, 1),
            principal=300_000,
            rate=1_200,
            interest=9_000,
            status="defaulted",
            lost=20_000,
            outstanding=0,
        ),
    ]
    s = figures.summary(facts)
    assert s.loans == 2 and s.principal_minor == 400_000
    assert s.average_rate_bps == 1_100  # (100k x 8% + 300k x 12%) / 400k
    assert s.outstanding_minor == 100_000  # the defaulted loan owes nothing any more
    assert s.realized_return_bps == -150  # (14,000 - 20,000) / 400,000
    assert figures.summary([]).average_rate_bps is None


def test_issued_by_month_groups_month_and_grade_oldest_first():
    rows = figures.issued_by_month(
        [
            fact(date(2026, 2, 3), "B", 10),
            fact(date(2026, 1, 9), "B", 20),
            fact(date(2026, 2, 28), "B", 30),
            fact(date(2026, 2, 1), "A", 40),
        ]
    )
    assert [(r.month, r.grade, r.loans, r.principal_minor) for r in rows] == [
        ("2026-01", "B", 1, 20),
        ("2026-02", "A", 1, 40),
        ("2026-02", "B", 2, 40),
    ]


def test_shares_and_bars():
    assert figures.share_bps(1, 3) == 3_333 and figures.share_bps(2, 3) == 6_667
    assert figures.share_bps(0, 0) is None
    bars = charts.bars([("2026-01", 50, ""), ("2026-02", 100, "paid")], 600, 160)
    assert [(b.height, b.y, b.kind) for b in bars] == [(80.0, 80.0, ""), (160.0, 0.0, "paid")]
    assert [(b.x, b.width) for b in bars] == [(30.0, 240.0), (330.0, 240.0)]
    assert charts.bars([], 600, 160) == []
