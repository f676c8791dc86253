"""Schedules: hand-checked examples first, then properties over random loans.

How the examples were checked: the annuity instalment with the closed form
A = P·i·(1+i)^n / ((1+i)^n − 1), evaluated by hand to eight places (values in the
comments), which also agree with the usual published amortization tables (EUR 10,000 at
6 % over 36 months: 304.22; EUR 5,000 at 5 % over 60 months: 94.36). The rows of the
EUR 1,000 table were then worked line by line: interest = balance × 1 %, rounded half
up to the cent; principal = 88.85 − interest; the last row pays the remaining balance.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from p2pbank.lending.schedule import (
    Keep,
    Method,
    Schedule,
    ScheduledPart,
    add_months,
    annual_percentage_rate,
    annuity_payment,
    annuity_schedule,
    build_schedule,
    due_dates,
    equal_principal_schedule,
    monthly_interest,
    recompute_after_early_repayment,
    round_half_up,
    weighted_monthly_rate,
)

ISSUED = date(2024, 1, 31)


def rows(schedule: Schedule) -> list[tuple[int, int, int, int, int]]:
    """(number, payment, interest, principal, balance) of each instalment."""
    return [
        (i.number, i.payment_minor, i.interest_minor, i.principal_minor, i.balance_minor)
        for i in schedule
    ]


# --- rounding and the instalment formula ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(5, 2), 3),
        (Fraction(7, 2), 4),
        (Fraction(24_999, 10_000), 2),
        (Fraction(1, 2), 1),
        (Fraction(0), 0),
        (Fraction(-1, 2), 0),  # half up means towards +infinity
    ],
)
def test_round_half_up(value: Fraction, expected: int) -> None:
    assert round_half_up(value) == expected


@pytest.mark.parametrize(
    ("principal", "rate_bps", "expected"),
    [
        (100_000, 1_200, 1_000),  # 1,000.00 at 1 % a month: 10.00
        (92_115, 1_200, 921),  # 9.2115 -> 9.21
        (50, 1_200, 1),  # exactly 0.50 -> 1 cent (half up)
        (49, 1_200, 0),  # 0.49 -> 0
        (123_456, 0, 0),
    ],
)
def test_monthly_interest(principal: int, rate_bps: int, expected: int) -> None:
    assert monthly_interest(principal, rate_bps) == expected


@pytest.mark.parametrize(
    ("principal", "rate_bps", "months", "expected"),
    [
        (100_000, 1_200, 12, 8_885),  # 1.01^12 = 1.12682503; A = 88.848789
        (1_000_000, 600, 36, 30_422),  # 1.005^36 = 1.19668052; A = 304.219375
        (500_000, 500, 60, 9_436),  # (1+0.05/12)^60 = 1.28335868; A = 94.356168
        (120_000, 0, 12, 10_000),  # no interest: P / n
        (100_000, 1_200, 1, 101_000),  # one month: principal plus 1 %
    ],
)
def test_annuity_payment_hand_checked(
    principal: int, rate_bps: int, months: int, expected: int
) -> None:
    assert annuity_payment(principal, Fraction(rate_bps, 120_000), months) == expected


def test_weighted_rate_is_principal_weighted() -> None:
    parts = [ScheduledPart(60_000, 1_000), ScheduledPart(40_000, 1_500)]
    assert weighted_monthly_rate(parts) == Fraction(1_200, 120_000)  # 12 % a year


# --- annuity schedules ------------------------------------------------------------------


def test_one_part_annuity_table() -> None:
    schedule = annuity_schedule([ScheduledPart(100_000, 1_200)], 12, ISSUED)
    table = rows(schedule)
    assert table[0] == (1, 8_885, 1_000, 7_885, 92_115)
    assert table[1] == (2, 8_885, 921, 7_964, 84_151)
    assert table[2] == (3, 8_885, 842, 8_043, 76_108)
    # The last row: interest on 87.96 is 0.8796 -> 0.88, plus the whole balance.
    assert table[11] == (12, 8_884, 88, 8_796, 0)
    assert all(row[1] == 8_885 for row in table[:11])
    # 11 x 88.85 + 88.84 = 1,066.19 paid for 1,000.00 borrowed.
    assert schedule.total_paid_minor == 106_619
    assert schedule.total_interest_minor == 6_619
    assert schedule.total_cost_minor == 6_619


def test_parts_at_different_rates_share_the_instalment() -> None:
    # 600.00 at 10 % and 400.00 at 15 %: 12 % on average, so the same 88.85 instalment.
    schedule = annuity_schedule(
        [ScheduledPart(60_000, 1_000), ScheduledPart(40_000, 1_500)], 12, ISSUED
    )
    first, second = schedule.instalments[:2]
    assert first.payment_minor == 8_885
    # Interest: 600 x 10 %/12 = 5.00 and 400 x 15 %/12 = 5.00; principal 78.85 split
    # 60:40 = 47.31 and 31.54.
    assert [(p.interest_minor, p.principal_minor) for p in first.parts] == [
        (500, 4_731),
        (500, 3_154),
    ]
    # Month 2: 552.69 x 10 %/12 = 4.60575 -> 4.61; 368.46 x 15 %/12 = 4.60575 -> 4.61.
    assert [p.interest_minor for p in second.parts] == [461, 461]
    assert second.payment_minor == 8_885
    assert sum(p.principal_minor for p in second.parts) == 8_885 - 922


def test_equal_principal_table() -> None:
    # 1,200.00 at 12 % over 12 months: 100.00 principal a month; interest 12.00, 11.00 ...
    schedule = equal_principal_schedule([ScheduledPart(120_000, 1_200)], 12, ISSUED)
    assert [i.principal_minor for i in schedule] == [10_000] * 12
    assert [i.interest_minor for i in schedule] == [1_200 - 100 * k for k in range(12)]
    assert schedule.total_interest_minor == 7_800  # 12 + 11 + ... + 1 = 78.00


def test_equal_principal_last_instalment_absorbs_the_remainder() -> None:
    schedule = equal_principal_schedule([ScheduledPart(1_000, 0)], 3, ISSUED)
    assert [i.principal_minor for i in schedule] == [333, 333, 334]


def test_build_schedule_picks_the_method() -> None:
    parts = [ScheduledPart(120_000, 1_200)]
    assert build_schedule(parts, 12, ISSUED).method is Method.ANNUITY
    chosen = build_schedule(parts, 12, ISSUED, Method.EQUAL_PRINCIPAL)
    assert chosen == equal_principal_schedule(parts, 12, ISSUED)


@pytest.mark.parametrize(
    ("parts", "term", "fee"),
    [
        ([], 12, 0),
        ([ScheduledPart(0, 500)], 12, 0),
        ([ScheduledPart(1_000, 500)], 0, 0),
        ([ScheduledPart(1_000, 500)], 12, 1_000),
        ([ScheduledPart(1_000, 500)], 12, -1),
    ],
)
def test_bad_loans_are_refused(parts: list[ScheduledPart], term: int, fee: int) -> None:
    with pytest.raises(ValueError):
        annuity_schedule(parts, term, ISSUED, fee_minor=fee)


@pytest.mark.parametrize(("principal", "rate"), [(1.5, 100), (100, -1), (True, 100)])
def test_bad_parts_are_refused(principal: object, rate: int) -> None:
    with pytest.raises((TypeError, ValueError)):
        ScheduledPart(principal, rate)  # type: ignore[arg-type]


# --- due dates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issued", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # leap year
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 1, 31), 2, date(2024, 3, 31)),  # back to the 31st after February
        (date(2024, 1, 31), 3, date(2024, 4, 30)),
        (date(2024, 11, 15), 2, date(2025, 1, 15)),  # across the year end
        (date(2024, 3, 30), 11, date(2025, 2, 28)),
        (date(2024, 6, 1), 0, date(2024, 6, 1)),
    ],
)
def test_add_months(issued: date, months: int, expected: date) -> None:
    assert add_months(issued, months) == expected


def test_schedule_due_dates_are_month_end_aware() -> None:
    schedule = annuity_schedule([ScheduledPart(100_000, 1_200)], 4, ISSUED)
    assert [i.due_on for i in schedule] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert due_dates(ISSUED, 2, first=3) == [date(2024, 4, 30), date(2024, 5, 31)]


# --- APR -------------------------------------------------------------------------------


def test_apr_of_a_one_month_loan() -> None:
    # Borrow 1,000.00, repay 1,010.00 a month later: APR = 1.01^12 - 1 = 12.6825 %.
    schedule = annuity_schedule([ScheduledPart(100_000, 1_200)], 1, ISSUED)
    assert schedule.apr() == pytest.approx(0.12682503013, abs=1e-9)


def test_a_fee_raises_the_apr() -> None:
    # With a 10.00 fee, 990.00 is paid out for 1,010.00 back: (1010/990)^12 - 1.
    schedule = annuity_schedule([ScheduledPart(100_000, 1_200)], 1, ISSUED, fee_minor=1_000)
    assert schedule.apr() == pytest.approx((1010 / 990) ** 12 - 1, abs=1e-9)
    assert schedule.total_cost_minor == 1_000 + 1_000


def test_apr_of_a_year_long_annuity() -> None:
    # 12 % nominal compounds to about 12.68 %; rounding the instalment moves it a hair.
    schedule = annuity_schedule([ScheduledPart(100_000, 1_200)], 12, ISSUED)
    assert schedule.apr() == pytest.approx(0.126825, abs=2e-4)
    with_fee = annuity_schedule([ScheduledPart(100_000, 1_200)], 12, ISSUED, fee_minor=3_000)
    assert with_fee.apr() > schedule.apr() + 0.04


def test_apr_of_an_interest_free_loan_is_zero() -> None:
    schedule = annuity_schedule([ScheduledPart(120_000, 0)], 12, ISSUED)
    assert schedule.apr() == pytest.approx(0.0, abs=1e-9)


def test_apr_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        annual_percentage_rate(0, [(1, 100)])
    with pytest.raises(ValueError):
        annual_percentage_rate(100_000, [(1, 1)])  # a loss of nearly everything


# --- early repayment -----------------------------------------------------------------------


def test_early_repayment_keeps_the_instalment_and_shortens_the_term() -> None:
    schedule = annuity_schedule([ScheduledPart(100_000, 1_200)], 12, ISSUED)
    # After six instalments 514.92 is owed; 200.00 repaid early leaves 314.92.
    early = recompute_after_early_repayment(schedule, 6, 20_000)
    assert early.prepaid_parts == (20_000,)
    # 314.92 x 1 % = 3.1492 -> 3.15; 88.85 - 3.15 = 85.70 -> 229.22 left, and so on.
    assert rows(early.schedule) == [
        (7, 8_885, 315, 8_570, 22_922),
        (8, 8_885, 229, 8_656, 14_266),
        (9, 8_885, 143, 8_742, 5_524),
        (10, 5_579, 55, 5_524, 0),
    ]
    assert early.schedule.instalments[0].due_on == date(2024, 8, 31)


def test_early_repayment_can_keep_the_term_instead() -> None:
    schedule = annuity_schedule([ScheduledPart(100_000, 1_200)], 12, ISSUED)
    early = recompute_after_early_repayment(schedule, 6, 20_000, keep=Keep.TERM)
    # Annuity of 314.92 at 1 % over 6 months: 1.01^6 = 1.06152015, A = 54.338932.
    assert [i.payment_minor for i in early.schedule] == [5_434] * 6
    assert [i.number for i in early.schedule] == list(range(7, 13))
    assert early.schedule.principal_minor == 31_492


def test_early_repayment_splits_among_parts_and_keeps_equal_principal() -> None:
    parts = [ScheduledPart(60_000, 0), ScheduledPart(60_000, 0)]
    schedule = equal_principal_schedule(parts, 12, ISSUED)
    # After two instalments each part is owed 500.00; 300.00 repaid: 150.00 each.
    early = recompute_after_early_repayment(schedule, 2, 30_000)
    assert early.prepaid_parts == (15_000, 15_000)
    assert [i.principal_minor for i in early.schedule] == [10_000] * 7
    shorter_steps = recompute_after_early_repayment(schedule, 2, 30_000, keep=Keep.TERM)
    assert [i.principal_minor for i in shorter_steps.schedule] == [7_000] * 10


def test_full_early_repayment_ends_the_loan() -> None:
    parts = [ScheduledPart(70_000, 900), ScheduledPart(30_000, 1_500)]
    schedule = annuity_schedule(parts, 12, ISSUED)
    owed = [
        p.principal_minor - sum(i.parts[k].principal_minor for i in schedule.instalments[:3])
        for k, p in enumerate(parts)
    ]
    early = recompute_after_early_repayment(schedule, 3, sum(owed))
    assert list(early.prepaid_parts) == owed
    assert early.schedule.instalments == ()


@pytest.mark.parametrize(("paid", "amount"), [(-1, 100), (12, 100), (0, 0), (0, 100_001)])
def test_bad_early_repayments_are_refused(paid: int, amount: int) -> None:
    schedule = annuity_schedule([ScheduledPart(100_000, 1_200)], 12, ISSUED)
    with pytest.raises(ValueError):
        recompute_after_early_repayment(schedule, paid, amount)


# --- properties ------------------------------------------------------------------------

loan_parts = st.lists(
    st.builds(ScheduledPart, st.integers(0, 2_000_000), st.integers(0, 3_600)),
    min_size=1,
    max_size=6,
).filter(lambda parts: sum(p.principal_minor for p in parts) > 0)


def check_schedule(schedule: Schedule, term: int) -> None:
    """The invariants every schedule keeps, to the cent."""
    n_parts = len(schedule.parts)
    assert 1 <= len(schedule) <= term
    for k in range(n_parts):
        paid = sum(i.parts[k].principal_minor for i in schedule)
        assert paid == schedule.parts[k].principal_minor
    assert sum(i.principal_minor for i in schedule) == schedule.principal_minor
    balance = schedule.principal_minor
    for row in schedule:
        assert len(row.parts) == n_parts
        assert sum(p.total_minor for p in row.parts) == row.payment_minor
        assert sum(p.interest_minor for p in row.parts) == row.interest_minor
        assert sum(p.principal_minor for p in row.parts) == row.principal_minor
        assert row.payment_minor == row.interest_minor + row.principal_minor
        assert min(row.interest_minor, row.principal_minor) >= 0
        assert all(min(p.interest_minor, p.principal_minor) >= 0 for p in row.parts)
        balance -= row.principal_minor
        assert row.balance_minor == balance >= 0
    assert balance == 0
    dates = [i.due_on for i in schedule]
    assert dates == sorted(set(dates))


@settings(max_examples=300, deadline=None)
@given(parts=loan_parts, term=st.integers(1, 60), method=st.sampled_from(Method))
def test_schedule_invariants(parts: list[ScheduledPart], term: int, method: Method) -> None:
    schedule = build_schedule(parts, term, ISSUED, method)
    check_schedule(schedule, term)
    if method is Method.ANNUITY:
        payment = annuity_payment(schedule.principal_minor, weighted_monthly_rate(parts), term)
        for row in schedule.instalments[:-1]:
            # Only a loan so small that rounding outweighs the instalment pays interest only.
            assert row.payment_minor == payment or row.interest_minor > payment


@settings(max_examples=300, deadline=None)
@given(
    parts=loan_parts,
    term=st.integers(2, 60),
    method=st.sampled_from(Method),
    keep=st.sampled_from(Keep),
    data=st.data(),
)
def test_early_repayment_invariants(
    parts: list[ScheduledPart], term: int, method: Method, keep: Keep, data: st.DataObject
) -> None:
    schedule = build_schedule(parts, term, ISSUED, method)
    assume(len(schedule) >= 2)
    paid = data.draw(st.integers(0, len(schedule) - 1))
    owed = schedule.principal_minor - sum(i.principal_minor for i in schedule.instalments[:paid])
    amount = data.draw(st.integers(1, owed))
    early = recompute_after_early_repayment(schedule, paid, amount, keep=keep)
    assert sum(early.prepaid_parts) == amount and min(early.prepaid_parts) >= 0
    rest = early.schedule
    assert rest.principal_minor == owed - amount
    if rest.principal_minor:
        check_schedule(rest, len(schedule) - paid)
        assert rest.instalments[0].number == paid + 1
        assert rest.instalments[-1].number <= schedule.instalments[-1].number
    else:
        assert rest.instalments == ()
