"""The pure repayment plan: Components arithmetic, allocation, and what every instalment,
part and lender receives (hypothesis: the plan's parts add up to the payment exactly)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from p2pbank.lending import repayment as repay
from p2pbank.lending.repayment import ZERO, Components
from p2pbank.lending.rules import servicing_fees, split_by_remaining


@dataclass
class Part:
    part_id: int
    principal_minor: int
    interest_minor: int
    late_fee_minor: int = 0
    principal_paid_minor: int = 0
    interest_paid_minor: int = 0
    late_fee_paid_minor: int = 0


@dataclass
class Row:
    """An instalment: what it owes and has paid is the sum of its parts'."""

    number: int
    due_on: date
    parts: list[Part] = field(default_factory=list)

    @property
    def principal_minor(self) -> int:
        return sum(p.principal_minor for p in self.parts)

    @property
    def interest_minor(self) -> int:
        return sum(p.interest_minor for p in self.parts)

    @property
    def late_fee_minor(self) -> int:
        return sum(p.late_fee_minor for p in self.parts)

    @property
    def principal_paid_minor(self) -> int:
        return sum(p.principal_paid_minor for p in self.parts)

    @property
    def interest_paid_minor(self) -> int:
        return sum(p.interest_paid_minor for p in self.parts)

    @property
    def late_fee_paid_minor(self) -> int:
        return sum(p.late_fee_paid_minor for p in self.parts)


# --- Components ----------------------------------------------------------------------------


def test_components_add_subtract_and_name_their_sums():
    a = Components(late_fee_minor=1, interest_minor=20, principal_minor=300)
    b = Components(late_fee_minor=4, interest_minor=50, principal_minor=600)
    assert a + b == Components(5, 70, 900)
    assert b - a == Components(3, 30, 300)
    assert (a + b).total_minor == 975
    assert a.fee_bearing_minor == 320  # the late fee bears no servicing fee
    assert a + ZERO == a
    assert repay.total([a, b, a]) == Components(6, 90, 1_200)
    assert repay.total([]) == ZERO


def test_components_are_a_frozen_value():
    a = Components(1, 2, 3)
    assert a == Components(1, 2, 3) and hash(a) == hash(Components(1, 2, 3))
    with pytest.raises(AttributeError):
        a.principal_minor = 4  # type: ignore[misc]


def test_a_budget_pays_the_late_fee_then_interest_then_principal():
    owed = Components(late_fee_minor=1_500, interest_minor=500, principal_minor=4_000)
    assert owed.take(1_000) == Components(1_000, 0, 0)
    assert owed.take(1_600) == Components(1_500, 100, 0)
    assert owed.take(2_500) == Components(1_500, 500, 500)
    assert owed.take(99_999) == owed
    assert owed.take(0) == ZERO


def test_components_are_split_by_what_each_part_is_owed_for_each():
    shares = Components(3, 10, 100).split([Components(1, 5, 50), Components(2, 5, 150)])
    assert shares == [Components(1, 5, 25), Components(2, 5, 75)]
    with pytest.raises(ValueError):
        Components(0, 0, 101).split([Components(0, 0, 50), Components(0, 0, 50)])


def test_what_a_row_owes_is_due_minus_paid():
    part = Part(1, principal_minor=400, interest_minor=60, late_fee_minor=15)
    part.interest_paid_minor = 10
    assert Components.due_on(part) == Components(15, 60, 400)
    assert Components.paid_on(part) == Components(0, 10, 0)
    assert Components.owed_on(part) == Components(15, 50, 400)


# --- allocation and the plan ---------------------------------------------------------------


def two_rows() -> list[Row]:
    first = Row(1, date(2026, 12, 2), [Part(7, 3_000, 200, 1_000), Part(9, 1_000, 100, 500)])
    second = Row(2, date(2027, 1, 2), [Part(7, 3_000, 170), Part(9, 1_000, 90)])
    return [first, second]


def test_allocation_fills_the_oldest_instalment_first():
    first, second = two_rows()
    portions = repay.allocate_payment([first, second], 6_000)
    assert [p.instalment.number for p in portions] == [1, 2]
    assert portions[0].paid == Components(1_500, 300, 4_000)
    assert portions[1].paid == Components(0, 200, 0)
    assert repay.allocate_payment([first, second], 0) == []


def test_the_plan_shares_each_instalment_and_settles_the_paid_ones():
    rows = two_rows()
    portions = repay.allocate_payment(rows, 6_000)
    planned = repay.plan([7, 9], portions, date(2026, 12, 20))
    first, second = planned.instalments
    assert first.to_parts == (Components(1_000, 200, 3_000), Components(500, 100, 1_000))
    assert first.settled and first.days_late == 18
    assert not second.settled and second.days_late == 0
    assert second.to_parts == (Components(0, 131, 0), Components(0, 69, 0))
    assert planned.parts == (Components(1_000, 331, 3_000), Components(500, 169, 1_000))
    assert planned.paid == Components(1_500, 500, 4_000)
    assert planned.fees == tuple(servicing_fees([3_331, 1_169]))
    assert planned.servicing_fee_minor == 45
    assert planned.settled == (first,)
    # Pure: the rows are untouched.
    assert all(Components.paid_on(r) == ZERO for r in rows)


def test_an_instalment_paid_on_or_before_its_due_date_is_on_time():
    rows = two_rows()
    planned = repay.plan([7, 9], repay.allocate_payment(rows[:1], 99_999), date(2026, 11, 20))
    assert planned.settled[0].days_late == 0


def test_lender_totals_add_each_lenders_parts_and_leave_out_those_paid_nothing():
    received = [Components(10, 100, 1_000), ZERO, Components(0, 50, 500), Components(0, 1, 2)]
    totals = repay.lender_totals([5, 6, 5, 3], received, [11, 0, 5, 0])
    assert [t.lender_id for t in totals] == [3, 5]
    five = totals[1]
    assert (five.gross_minor, five.principal_minor, five.fee_minor) == (1_660, 1_500, 16)
    assert five.net_minor == 1_644
    recovered = repay.lender_totals([5, 6], [ZERO, ZERO], [2, 1], recovery=[200, 100])
    assert [(t.lender_id, t.gross_minor, t.principal_minor) for t in recovered] == [
        (5, 200, 0),
        (6, 100, 0),
    ]


# --- hypothesis: the plan adds up to the payment, to the cent ------------------------------

amounts = st.integers(min_value=0, max_value=500_000)


@st.composite
def schedules(draw):
    n_parts = draw(st.integers(min_value=1, max_value=6))
    part_ids = sorted(draw(st.sets(st.integers(1, 10_000), min_size=n_parts, max_size=n_parts)))
    rows = []
    for number in range(1, draw(st.integers(min_value=1, max_value=4)) + 1):
        parts = []
        for part_id in part_ids:
            due = [draw(amounts) for _ in range(3)]
            paid = [draw(st.integers(min_value=0, max_value=d)) for d in due]
            parts.append(Part(part_id, *due, *paid))
        rows.append(Row(number, date(2026, number, 2), parts))
    return part_ids, rows


@given(schedule=schedules(), data=st.data())
def test_the_plans_parts_add_up_exactly_to_the_amount_paid(schedule, data):
    part_ids, rows = schedule
    owed = sum(Components.owed_on(r).total_minor for r in rows)
    budget = data.draw(st.integers(min_value=0, max_value=owed))
    portions = repay.allocate_payment(rows, budget)
    planned = repay.plan(part_ids, portions, date(2026, 6, 1))
    assert planned.paid.total_minor == sum(p.total_minor for p in portions) == budget
    assert sum(planned.parts, ZERO) == planned.paid
    for step in planned.instalments:
        assert sum(step.to_parts, ZERO) == step.paid
        for ip, share in zip(step.instalment.parts, step.to_parts, strict=True):
            owed_ip = Components.owed_on(ip)
            for got, cap in zip(
                (share.late_fee_minor, share.interest_minor, share.principal_minor),
                (owed_ip.late_fee_minor, owed_ip.interest_minor, owed_ip.principal_minor),
                strict=True,
            ):
                assert 0 <= got <= cap
        assert step.settled == (Components.owed_on(step.instalment) == step.paid)
    assert planned.servicing_fee_minor == (planned.paid.fee_bearing_minor + 50) // 100
    totals = repay.lender_totals(part_ids, planned.parts, planned.fees)
    assert sum(t.gross_minor for t in totals) == budget
    assert sum(t.net_minor for t in totals) + planned.servicing_fee_minor == budget


def pay_in_place(part_ids, portions):
    """The plan's meaning, spelt out the long way: pay each component of each portion into
    the instalment's parts, one after the other, adding up what each loan part gets."""
    got = {part_id: ZERO for part_id in part_ids}
    for portion in portions:
        parts = portion.instalment.parts
        fee_shares = split_or_zero(
            portion.paid.late_fee_minor, [p.late_fee_minor - p.late_fee_paid_minor for p in parts]
        )
        interest_shares = split_or_zero(
            portion.paid.interest_minor, [p.interest_minor - p.interest_paid_minor for p in parts]
        )
        principal_shares = split_or_zero(
            portion.paid.principal_minor,
            [p.principal_minor - p.principal_paid_minor for p in parts],
        )
        for ip, fee, interest, principal in zip(
            parts, fee_shares, interest_shares, principal_shares, strict=True
        ):
            got[ip.part_id] += Components(fee, interest, principal)
    return tuple(got[part_id] for part_id in part_ids)


def split_or_zero(amount, owed):
    return split_by_remaining(amount, owed) if amount else [0] * len(owed)


@given(schedule=schedules(), data=st.data())
def test_the_plan_gives_each_part_what_paying_component_by_component_gives(schedule, data):
    part_ids, rows = schedule
    owed = sum(Components.owed_on(r).total_minor for r in rows)
    budget = data.draw(st.integers(min_value=0, max_value=owed))
    portions = repay.allocate_payment(rows, budget)
    planned = repay.plan(part_ids, portions, date(2026, 6, 1))
    assert planned.parts == pay_in_place(part_ids, portions)
