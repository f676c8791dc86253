"""Unit tests for p2pbank.money: tables of known cases and hypothesis properties."""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from p2pbank.money import CurrencyMismatch, Money, allocate, exponent, percent_of

totals = st.integers(min_value=-(10**15), max_value=10**15)
weight_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(
    lambda ws: sum(ws) > 0
)

# --- construction -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "minor", [1.0, 0.0, True, False, Decimal("1"), "1", None, Fraction(1, 1), 10**20 + 0.5]
)
def test_minor_refuses_everything_but_int(minor: object) -> None:
    with pytest.raises(TypeError):
        Money(minor)  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["eur", "Eur", "EU", "EURO", "", "E1R", " EU", "ÉUR", "EU-"])
def test_currency_must_be_three_uppercase_letters(code: str) -> None:
    with pytest.raises(ValueError):
        Money(1, code)


@pytest.mark.parametrize("code", [978, None, b"EUR"])
def test_currency_of_wrong_type_is_a_type_error(code: object) -> None:
    with pytest.raises(TypeError):
        Money(1, code)  # type: ignore[arg-type]


def test_defaults_and_valid_codes() -> None:
    assert Money(5) == Money(5, "EUR")
    assert Money(-7, "USD").minor == -7
    assert Money(10**30, "JPY").minor == 10**30
    assert Money.zero("GBP") == Money(0, "GBP")


def test_money_is_frozen_slotted_and_hashable() -> None:
    m = Money(100, "EUR")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.minor = 5  # type: ignore[misc]
    assert not hasattr(m, "__dict__")
    assert {Money(1, "EUR"), Money(1, "EUR"), Money(1, "USD")} == {
        Money(1, "EUR"),
        Money(1, "USD"),
    }


def test_truthiness_is_refused_and_predicates_are_explicit() -> None:
    with pytest.raises(TypeError):
        bool(Money(0))
    with pytest.raises(TypeError):
        if Money(5):
            pass
    assert Money.zero("EUR").is_zero() and not Money(1).is_zero()
    assert Money(1).is_positive() and not Money(0).is_positive() and not Money(-1).is_positive()
    assert Money(-1).is_negative() and not Money(0).is_negative() and not Money(1).is_negative()


# --- arithmetic and comparison ------------------------------------------------------------


def test_arithmetic_same_currency() -> None:
    assert Money(150) + Money(-50) == Money(100)
    assert Money(150, "USD") - Money(200, "USD") == Money(-50, "USD")
    assert -Money(3, "GBP") == Money(-3, "GBP")
    assert -Money(0) == Money(0)


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
    ],
    ids=["add", "sub", "lt", "le", "gt", "ge"],
)
def test_mixed_currencies_raise(operation) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CurrencyMismatch):
        operation(Money(1, "EUR"), Money(1, "USD"))
    assert issubclass(CurrencyMismatch, ValueError)


def test_equality_across_currencies_is_false_not_an_error() -> None:
    assert Money(1, "EUR") != Money(1, "USD")
    assert Money(1, "EUR") == Money(1, "EUR")
    assert Money(0) != 0


@pytest.mark.parametrize("other", [1, 1.0, Decimal(1), "1", None])
def test_arithmetic_with_non_money_is_a_type_error(other: object) -> None:
    m = Money(1)
    for op in (lambda: m + other, lambda: other + m, lambda: m - other, lambda: m < other):
        with pytest.raises(TypeError):
            op()  # type: ignore[operator]


def test_ordering_same_currency() -> None:
    a, b = Money(1), Money(2)
    assert a < b and a <= b and b > a and b >= a and a <= Money(1) and a >= Money(1)
    assert not (b < a) and not (a > b) and not (a < Money(1))
    assert sorted([Money(3), Money(-1), Money(2)]) == [Money(-1), Money(2), Money(3)]


# --- display ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1234, "EUR", "12.34 EUR"),
        (-5, "EUR", "-0.05 EUR"),
        (-100, "EUR", "-1.00 EUR"),
        (0, "USD", "0.00 USD"),
        (123456789, "GBP", "1234567.89 GBP"),
        (7, "CHF", "0.07 CHF"),
        (1234, "JPY", "1234 JPY"),
        (-1, "JPY", "-1 JPY"),
        (1234, "BHD", "1.234 BHD"),
        (-5, "KWD", "-0.005 KWD"),
    ],
)
def test_str(minor: int, currency: str, text: str) -> None:
    assert str(Money(minor, currency)) == text


def test_exponent_table() -> None:
    assert exponent("JPY") == 0
    assert exponent("EUR") == exponent("USD") == exponent("GBP") == 2
    assert exponent("XYZ") == 2
    assert exponent("BHD") == 3


# --- allocate: known cases ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (101, [1, 1, 1], [34, 34, 33]),
        (2, [1, 1, 1], [1, 1, 0]),
        (1, [1, 1], [1, 0]),
        (0, [1, 2, 3], [0, 0, 0]),
        (10, [1, 2, 3, 4], [1, 2, 3, 4]),
        # Largest remainder beats position: exact shares 33.33 and 66.67.
        (100, [1, 2], [33, 67]),
        (-100, [1, 2], [-33, -67]),
        # Exact shares 3.33, 3.33, 3.33 would tie; lowest index wins.
        (10, [3, 3, 3], [4, 3, 3]),
        (5, [0, 1], [0, 5]),
        (5, [0, 1, 0, 1], [0, 3, 0, 2]),
        (7, [5], [7]),
        (1, [0, 0, 1, 0], [0, 0, 1, 0]),
        # Exact shares 0.6 / 0.4 / 0.6 / 0.4 ... of 2: remainders decide.
        (2, [3, 2, 3, 2], [1, 0, 1, 0]),
        (1000, [1, 1, 1, 1, 1, 1, 1], [143, 143, 143, 143, 143, 143, 142]),
    ],
)
def test_allocate_table(total: int, weights: list[int], parts: list[int]) -> None:
    assert allocate(total, weights) == parts


@pytest.mark.parametrize(
    ("total", "weights", "error"),
    [
        (10, [], ValueError),
        (10, [0, 0], ValueError),
        (10, [1, -1, 2], ValueError),
        (10.0, [1], TypeError),
        (True, [1], TypeError),
        (10, [1.5], TypeError),
        (10, [True, 1], TypeError),
        (10, [Decimal(1)], TypeError),
        (10, "12", TypeError),
        (10, 3, TypeError),
    ],
)
def test_allocate_refusals(total: object, weights: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        allocate(total, weights)  # type: ignore[arg-type]


def test_allocate_accepts_any_sequence_and_does_not_mutate_it() -> None:
    weights = [2, 1]
    assert allocate(10, weights) == allocate(10, (2, 1)) == [7, 3]
    assert weights == [2, 1]


def test_money_allocate_split_and_percent() -> None:
    assert Money(100, "USD").allocate([1, 2]) == [Money(33, "USD"), Money(67, "USD")]
    assert Money(100, "JPY").split(3) == [Money(34, "JPY"), Money(33, "JPY"), Money(33, "JPY")]
    assert Money(-5).split(2) == [Money(-3), Money(-2)]
    assert Money(5).split(1) == [Money(5)]
    assert Money(10_000, "GBP").percent(250) == Money(250, "GBP")
    for bad in (0, -1):
        with pytest.raises(ValueError):
            Money(5).split(bad)
    for wrong in (2.0, True):
        with pytest.raises(TypeError):
            Money(5).split(wrong)  # type: ignore[arg-type]


# --- allocate: properties -----------------------------------------------------------------


@given(totals, weight_lists)
def test_parts_sum_to_the_whole(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    assert all(type(p) is int for p in parts)


@given(totals, weight_lists)
def test_each_part_is_within_one_unit_of_its_exact_share(total: int, weights: list[int]) -> None:
    weight_sum = sum(weights)
    for part, weight in zip(allocate(total, weights), weights, strict=True):
        exact = Fraction(total * weight, weight_sum)
        assert abs(part - exact) < 1
        # The part is the exact share rounded down or up, never further away.
        assert part in (exact.__floor__(), exact.__ceil__())


@given(totals, weight_lists)
def test_deterministic(total: int, weights: list[int]) -> None:
    assert (
        allocate(total, weights)
        == allocate(total, list(weights))
        == allocate(total, tuple(weights))
    )


@given(totals, weight_lists)
def test_negative_total_mirrors_positive(total: int, weights: list[int]) -> None:
    assert allocate(-total, weights) == [-p for p in allocate(total, weights)]


@given(totals, weight_lists, st.integers(min_value=1, max_value=1000))
def test_scaling_all_weights_changes_nothing(total: int, weights: list[int], k: int) -> None:
    assert allocate(total, [k * w for w in weights]) == allocate(total, weights)


@given(totals, weight_lists)
def test_zero_weight_gets_zero(total: int, weights: list[int]) -> None:
    for part, weight in zip(allocate(total, weights), weights, strict=True):
        if weight == 0:
            assert part == 0


@given(totals, weight_lists)
def test_larger_weight_never_gets_less(total: int, weights: list[int]) -> None:
    parts = allocate(abs(total), weights)
    for i in range(len(weights)):
        for j in range(len(weights)):
            if weights[i] > weights[j]:
                assert parts[i] >= parts[j]
            if weights[i] == weights[j] and i < j:
                # Ties go to the lower index: an earlier equal part is never smaller.
                assert parts[i] - parts[j] in (0, 1)


@given(totals, st.integers(min_value=1, max_value=50))
def test_split_is_as_equal_as_possible(total: int, n: int) -> None:
    parts = Money(total, "EUR").split(n)
    minors = [p.minor for p in parts]
    assert sum(minors) == total
    assert max(minors) - min(minors) <= 1
    assert minors == sorted(minors, reverse=total >= 0)
    assert all(p.currency == "EUR" for p in parts)


@given(
    totals,
    st.lists(st.integers(min_value=-5, max_value=5), min_size=1, max_size=10).filter(
        lambda ws: any(w < 0 for w in ws)
    ),
)
def test_any_negative_weight_is_refused(total: int, weights: list[int]) -> None:
    with pytest.raises(ValueError):
        allocate(total, weights)


@given(st.floats(allow_nan=False) | st.decimals(allow_nan=False) | st.booleans() | st.text())
def test_non_int_minor_is_always_refused(value: object) -> None:
    with pytest.raises(TypeError):
        Money(value)  # type: ignore[arg-type]


# --- percent_of ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "bps", "result"),
    [
        (10_000, 250, 250),  # 2.5 % of 100.00
        (12_345, 100, 123),  # 123.45 -> 123
        (12_350, 100, 124),  # 123.5 -> 124 (half away from zero)
        (-12_350, 100, -124),  # -123.5 -> -124
        (1, 5_000, 1),  # 0.5 -> 1
        (-1, 5_000, -1),  # -0.5 -> -1
        (1, 4_999, 0),  # 0.4999 -> 0
        (-1, 4_999, 0),
        (3, 5_000, 2),  # 1.5 -> 2
        (5, 5_000, 3),  # 2.5 -> 3 (not banker's 2)
        (199, 250, 5),  # 4.975 -> 5
        (100, -50, -1),  # -0.5 -> -1
        (0, 123, 0),
        (12_345, 0, 0),
        (12_345, 10_000, 12_345),
        (1, 15_000, 2),  # 1.5 -> 2
    ],
)
def test_percent_of_table(amount: int, bps: int, result: int) -> None:
    assert percent_of(amount, bps) == result


@pytest.mark.parametrize(("amount", "bps"), [(1.0, 10), (10, 2.5), (True, 10), (10, False)])
def test_percent_of_refuses_non_ints(amount: object, bps: object) -> None:
    with pytest.raises(TypeError):
        percent_of(amount, bps)  # type: ignore[arg-type]


@given(totals, st.integers(min_value=-(10**6), max_value=10**6))
def test_percent_of_matches_decimal_half_up(amount: int, bps: int) -> None:
    with localcontext() as ctx:
        ctx.prec = 100
        expected = (Decimal(amount) * bps / 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    assert percent_of(amount, bps) == int(expected)


@given(totals, st.integers(min_value=-(10**6), max_value=10**6))
def test_percent_of_is_nearest_and_symmetric(amount: int, bps: int) -> None:
    result = percent_of(amount, bps)
    assert abs(result * 10_000 - amount * bps) <= 5_000
    assert percent_of(-amount, bps) == -result == percent_of(amount, -bps)


# --- arithmetic properties ----------------------------------------------------------------

amounts = st.builds(Money, totals, st.sampled_from(["EUR", "USD", "JPY"]))


@given(amounts, totals)
def test_add_sub_neg_are_consistent(a: Money, minor: int) -> None:
    b = Money(minor, a.currency)
    assert (a + b) - b == a
    assert a - b == a + (-b)
    assert (-a).minor == -a.minor and -a + a == Money.zero(a.currency)
    assert (a < b) == (a.minor < b.minor) and (a >= b) == (a.minor >= b.minor)


@given(amounts, amounts)
def test_mixed_currency_always_raises(a: Money, b: Money) -> None:
    assume(a.currency != b.currency)
    with pytest.raises(CurrencyMismatch):
        a + b
    with pytest.raises(CurrencyMismatch):
        _ = a <= b
    assert a != b
