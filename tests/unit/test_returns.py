"""Returns: NAR and XIRR on examples worked by hand, plus a property for XIRR."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from p2pbank.lending import returns
from p2pbank.lending.returns import NoteMonth, annualize_monthly, net_annualized_return, xirr
from p2pbank.lending.schedule import LoanPart, annuity_schedule

# --- net annualized return ------------------------------------------------------------


def test_annualize_monthly_compounds() -> None:
    assert annualize_monthly(0.01) == pytest.approx(0.12682503013)  # 1.01^12 - 1
    assert annualize_monthly(0.0) == 0.0


def test_nar_of_one_note_paying_one_percent_a_month() -> None:
    # 1,000.00 outstanding, 10.00 interest every month: 1 % a month, 12.68 % a year.
    months = [NoteMonth(100_000, interest_minor=1_000)] * 12
    assert net_annualized_return(months) == pytest.approx(0.12682503013)


def test_nar_takes_off_service_fees() -> None:
    # 10.00 interest minus a 0.10 service fee: 0.99 % a month; 1.0099^12 - 1 = 12.5487 %.
    months = [NoteMonth(100_000, interest_minor=1_000, service_fees_minor=10)] * 12
    assert net_annualized_return(months) == pytest.approx(0.12548696, abs=1e-8)


def test_nar_is_weighted_by_outstanding_principal_not_averaged_per_note() -> None:
    # 1 % a month on 1,000.00 and 2 % a month on 100.00:
    # (10.00 + 2.00) / 1,100.00 = 1.0909 % a month, not the 1.5 % plain average.
    months = [NoteMonth(100_000, interest_minor=1_000), NoteMonth(10_000, interest_minor=200)]
    assert net_annualized_return(months) == pytest.approx((1 + 12 / 1100) ** 12 - 1)
    assert net_annualized_return(months) == pytest.approx(0.13905639, abs=1e-8)


def test_nar_charges_off_principal_and_counts_recoveries_and_late_fees() -> None:
    months = [
        NoteMonth(100_000, interest_minor=1_000),
        NoteMonth(100_000, interest_minor=1_000),
        NoteMonth(100_000, interest_minor=1_000),
        NoteMonth(100_000, charged_off_minor=100_000),
    ]
    # Numerator 3 x 10.00 - 1,000.00 = -970.00 over 4,000.00 of principal-months:
    # -24.25 % a month; 0.7575^12 - 1 = -96.4306 %.
    assert net_annualized_return(months) == pytest.approx(-0.96430629, abs=1e-8)
    recovered = [*months, NoteMonth(0, recoveries_minor=40_000, late_fees_minor=1_500)]
    # Add 400.00 recovered and 15.00 of late fees: -555.00 / 4,000.00 = -13.875 % a month.
    assert net_annualized_return(recovered) == pytest.approx(0.86125**12 - 1)


def test_nar_before_any_principal_is_out() -> None:
    assert net_annualized_return([]) is None
    assert net_annualized_return([NoteMonth(0)]) is None


# --- XIRR -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flows", "expected"),
    [
        pytest.param(
            [(date(2023, 1, 1), -100_000), (date(2024, 1, 1), 110_000)],
            0.10,
            id="10 % over 365 days",
        ),
        pytest.param(
            [(date(2021, 1, 1), -100_000), (date(2022, 1, 1), 10_000), (date(2023, 1, 1), 110_000)],
            0.10,
            id="a 10 % coupon, then the principal",
        ),
        pytest.param(
            [(date(2021, 1, 1), -100_000), (date(2023, 1, 1), 200_000)],
            2**0.5 - 1,
            id="doubling in 730 days",
        ),
        pytest.param(
            [(date(2022, 1, 1), -100_000), (date(2023, 1, 1), 50_000)],
            -0.5,
            id="half lost in a year",
        ),
        pytest.param(
            [(date(2024, 1, 1), 110_000), (date(2023, 1, 1), -100_000)],
            0.10,
            id="flows in any order",
        ),
        pytest.param(
            [(date(2023, 1, 1), -100_000), (date(2023, 7, 2), 100_000)],
            0.0,
            id="money back with nothing on top",
        ),
    ],
)
def test_xirr_hand_examples(flows: list[tuple[date, int]], expected: float) -> None:
    assert xirr(flows) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("guess", [-0.9, 0.1, 3.0, 50.0, 1e6])
def test_xirr_does_not_depend_on_the_guess(guess: float) -> None:
    flows = [(date(2021, 1, 1), -100_000), (date(2022, 1, 1), 10_000), (date(2023, 1, 1), 110_000)]
    assert xirr(flows, guess=guess) == pytest.approx(0.10, abs=1e-9)


def test_newton_and_its_bisection_fallback_each_find_the_rate() -> None:
    times, amounts = [0.0, 1.0, 2.0], [-100_000.0, 10_000.0, 110_000.0]
    assert returns._newton(times, amounts, 0.1) == pytest.approx(0.10, abs=1e-12)
    assert returns._newton(times, amounts, 1e6) is None  # a far-off guess gives up
    assert returns._bisect(times, amounts) == pytest.approx(0.10, abs=1e-12)


def test_xirr_of_a_near_total_loss() -> None:
    flows = [(date(2021, 1, 1), -100_000), (date(2021, 2, 1), 100), (date(2021, 3, 1), 50)]
    times, amounts = [0.0, 31 / 365, 59 / 365], [-100_000.0, 100.0, 50.0]
    assert returns._newton(times, amounts, 0.1) is None  # so this is the fallback's answer
    assert xirr(flows) == pytest.approx(-1.0, abs=1e-6)


@pytest.mark.parametrize(
    "flows",
    [
        [(date(2021, 1, 1), -100)],
        [(date(2021, 1, 1), 100), (date(2022, 1, 1), 100)],
        [(date(2021, 1, 1), -100), (date(2021, 1, 1), 100)],
    ],
)
def test_xirr_refuses_flows_without_an_answer(flows: list[tuple[date, int]]) -> None:
    with pytest.raises(ValueError):
        xirr(flows)


def test_xirr_refuses_a_rate_no_float_can_hold() -> None:
    # 0.01 growing to 0.07 in one day is 7^365 - 1 a year: about 1e308.
    with pytest.raises(ValueError, match="beyond any sensible bound"):
        xirr([(date(2021, 1, 1), -1), (date(2021, 1, 2), 7)])


def test_xirr_and_nar_agree_on_a_loan_repaid_on_schedule() -> None:
    """Side by side as on the dashboard: both near 12.68 % for a 12 % loan paid on time."""
    issued = date(2024, 1, 31)
    schedule = annuity_schedule([LoanPart(100_000, 1_200)], 12, issued)
    flows = [(issued, -100_000)] + [(i.due_on, i.payment_minor) for i in schedule]
    months, balance = [], 100_000
    for i in schedule:
        months.append(NoteMonth(balance, interest_minor=i.interest_minor))
        balance -= i.principal_minor
    nar = net_annualized_return(months)
    assert nar is not None and nar == pytest.approx(0.1268, abs=5e-4)
    # XIRR counts real days (29 to 31 a month), so it lands near, not on, the same figure.
    assert xirr(flows) == pytest.approx(0.1268, abs=3e-3)


@settings(max_examples=200, deadline=None)
@given(
    outlay=st.integers(1, 10**8),
    receipts=st.lists(st.tuples(st.integers(30, 3_000), st.integers(0, 10**8)), min_size=1),
)
def test_xirr_zeroes_the_present_value(outlay: int, receipts: list[tuple[int, int]]) -> None:
    start = date(2020, 1, 1)
    flows = [(start, -outlay)] + [(start + timedelta(days=d), a) for d, a in receipts]
    if sum(a for _, a in receipts) == 0:
        return  # no positive flow: covered by the refusal test
    rate = xirr(flows)
    assert rate >= -1.0
    if rate > -0.999:
        growth = math.log1p(rate)  # in logs: huge rates would overflow (1 + rate) ** t
        value = sum(a * math.exp(-growth * (d - start).days / 365) for d, a in flows)
        assert value == pytest.approx(0, abs=1e-6 * max(outlay, max(a for _, a in receipts)))


# --- XIRR: flows that change sign more than once --------------------------------------


def _has_sign_change(flows: list[tuple[date, int]], points: int = 20_001) -> bool:
    """Reference: does the present value change sign anywhere a float rate can reach?

    A plain uniform scan of u = ln(1 + r) over the whole range the function may search,
    written independently of the function under test."""
    start = min(d for d, _ in flows)
    times = [(d - start).days / 365 for d, _ in flows]
    if max(times) == 0:
        return False
    low, high = -700 / max(times), 700.0
    previous = None
    for i in range(points):
        u = low + (high - low) * i / (points - 1)
        top = max(-u * t for t in times)  # scaled by the largest factor: never overflows
        value = math.fsum(
            a * math.exp(-u * t - top) for t, (_, a) in zip(times, flows, strict=True)
        )
        sign = (value > 0) - (value < 0)
        if sign == 0 or (previous is not None and sign != previous):
            return True
        previous = sign
    return False


# Flow sets where the present value is positive at both ends of every widened bracket but
# dips below zero in between (two roots): the old bisection gave up on these.
TWO_ROOT_FLOWS = [
    [
        (date(2025, 3, 27), -145_327),
        (date(2022, 7, 24), -805_726),
        (date(2024, 7, 8), 261_435),
        (date(2022, 11, 18), -207_017),
        (date(2021, 10, 12), 861_303),
        (date(2025, 2, 5), 670_615),
        (date(2021, 8, 23), -165_630),
    ],
    [
        (date(2023, 8, 14), 582_124),
        (date(2020, 7, 10), -143_658),
        (date(2022, 12, 10), 170_891),
        (date(2020, 10, 11), 823_601),
        (date(2023, 2, 11), -369_113),
        (date(2020, 12, 21), -527_474),
        (date(2024, 5, 27), -194_111),
        (date(2020, 8, 14), -844_937),
    ],
]


def _assert_is_a_root(flows: list[tuple[date, int]], rate: float) -> None:
    start = min(d for d, _ in flows)
    assert rate > -1.0
    growth = math.log1p(rate)
    terms = [a * math.exp(-growth * (d - start).days / 365) for d, a in flows]
    assert math.fsum(terms) == pytest.approx(0, abs=1e-6 * max(abs(t) for t in terms))


@pytest.mark.parametrize("flows", TWO_ROOT_FLOWS)
def test_xirr_finds_a_root_between_two_ends_of_the_same_sign(flows) -> None:
    assert _has_sign_change(flows)
    _assert_is_a_root(flows, xirr(flows))


def _as_raw(flows: list[tuple[date, int]]) -> list[tuple[int, int]]:
    return [((d - date(2020, 1, 1)).days, a) for d, a in flows]


@settings(max_examples=300, deadline=None, derandomize=True)
@example(_as_raw(TWO_ROOT_FLOWS[0]))
@example(_as_raw(TWO_ROOT_FLOWS[1]))
@given(
    st.lists(st.tuples(st.integers(0, 2_000), st.integers(-(10**6), 10**6)), min_size=2, max_size=8)
)
def test_xirr_finds_a_root_whenever_one_exists(raw: list[tuple[int, int]]) -> None:
    """Any mix of signs and dates: where the reference scan sees the present value change
    sign, XIRR answers with a rate that zeroes it; otherwise it refuses, never guesses."""
    start = date(2020, 1, 1)
    flows = [(start + timedelta(days=d), a) for d, a in raw]
    if not (any(a < 0 for _, a in flows) and any(a > 0 for _, a in flows)):
        return  # covered by the refusal test
    if not _has_sign_change(flows, points=2_001):
        with pytest.raises(ValueError):
            xirr(flows)
        return
    rate = xirr(flows)
    if rate > -0.999:
        _assert_is_a_root(flows, rate)


# --- the dashboard's periods: a payment on its due date closes its own period ----------


def _paid_on_time(instalments: int):
    """A 1,000.00 part at 10 % over 36 months, paid on every due date up to `instalments`,
    with the 1 % servicing fee taken from each payment."""
    schedule = annuity_schedule([LoanPart(100_000, 1_000)], 36, date(2026, 1, 15))
    rows = list(schedule)[:instalments]
    receipts = tuple(
        returns.Receipt(
            row.due_on,
            principal_minor=row.principal_minor,
            interest_minor=row.interest_minor,
            service_fee_minor=round(row.payment_minor / 100),
        )
        for row in rows
    )
    ideal = [
        NoteMonth(
            row.balance_minor + row.principal_minor,
            interest_minor=row.interest_minor,
            service_fees_minor=round(row.payment_minor / 100),
        )
        for row in rows
    ]
    holding = returns.Holding(
        started_on=schedule.issued_on,
        paid_minor=100_000,
        principal_minor=100_000,
        receipts=receipts,
        outstanding_now_minor=rows[-1].balance_minor,
    )
    return holding, ideal, rows[-1].due_on


@pytest.mark.parametrize(
    ("instalments", "expected"),
    [(1, 0.1005), (12, 0.0999), (36, 0.0969)],  # the formula over the schedule
)
def test_a_loan_paid_on_time_shows_the_formulas_nar(instalments, expected) -> None:
    """The review's worked example: 10 %/36 months paid on time is 10.05 % after the first
    payment and 9.69 % at maturity, on the day of the payment and in the days after it
    (the next period, in progress with nothing paid yet, does not dilute it)."""
    holding, ideal, paid_on = _paid_on_time(instalments)
    for today in (paid_on, paid_on + timedelta(days=20)):
        nar, irr = returns.returns_of([holding], today)
        assert nar == pytest.approx(net_annualized_return(ideal))
        assert nar == pytest.approx(expected, abs=5e-5)
        assert irr is not None


def test_a_period_that_is_over_without_a_payment_counts_with_no_income() -> None:
    """Late: the second period ended unpaid, so it weighs on the return."""
    holding, ideal, paid_on = _paid_on_time(1)
    late = returns.figures([holding], paid_on + timedelta(days=40)).months
    assert [m.outstanding_principal_minor for m in late] == [
        100_000,
        ideal[0].outstanding_principal_minor - holding.receipts[0].principal_minor,
    ]
    assert late[1].net_minor == 0
